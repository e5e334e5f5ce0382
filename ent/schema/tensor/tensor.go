// Package tensor holds the tensor description stored with each model in
// the registry. It lives apart from ent/schema so that the generated ent
// package can use it without importing the schema.
package tensor

// Spec is a model input or output: name, ONNX element type and fixed shape.
type Spec struct {
	Name  string `json:"name"`
	DType string `json:"dtype"`
	Shape []int  `json:"shape"`
}
