package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/taskmind/taskmind/internal/apperr"
	"github.com/taskmind/taskmind/internal/inference"
)

// The Open Inference Protocol (KServe v2) over REST, so standard inference
// clients can call Taskmind's models. Only FP32 tensors are served, as the
// engine computes in float32. Errors are {"error": "..."} as the protocol
// says, with the status code carrying the class.

type v2Tensor struct {
	Name     string          `json:"name"`
	Shape    []int           `json:"shape"`
	Datatype string          `json:"datatype"`
	Data     json.RawMessage `json:"data,omitempty"`
}

type v2TensorOut struct {
	Name     string    `json:"name"`
	Shape    []int     `json:"shape"`
	Datatype string    `json:"datatype"`
	Data     []float32 `json:"data"`
}

type v2InferRequest struct {
	ID         string         `json:"id,omitempty"`
	Parameters map[string]any `json:"parameters,omitempty"`
	Inputs     []v2Tensor     `json:"inputs"`
	Outputs    []struct {
		Name       string         `json:"name"`
		Parameters map[string]any `json:"parameters,omitempty"`
	} `json:"outputs,omitempty"`
}

type v2Meta struct {
	Name     string `json:"name"`
	Datatype string `json:"datatype"`
	Shape    []int  `json:"shape"`
}

func v2Error(c echo.Context, status int, format string, args ...any) error {
	return c.JSON(status, map[string]string{"error": fmt.Sprintf(format, args...)})
}

// v2Fail maps an error to the protocol's error body.
func (s *Server) v2Fail(c echo.Context, err error) error {
	he := s.toHTTPError(c, err)
	return v2Error(c, he.status, "%s", he.body.Message)
}

func (s *Server) v2Server(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"name": "taskmind", "version": s.deps.Version, "extensions": []string{}})
}

func (s *Server) v2Live(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]bool{"live": true})
}

func (s *Server) v2Ready(c echo.Context) error {
	ready := !s.draining.Load() && s.deps.Registry.Ready(c.Request().Context()) == nil
	status := http.StatusOK
	if !ready {
		status = http.StatusServiceUnavailable
	}
	return c.JSON(status, map[string]bool{"ready": ready})
}

// v2Model resolves :name (and :version, when given) to an engine model.
func (s *Server) v2Model(c echo.Context) (inference.ModelInfo, error) {
	info, err := s.deps.Registry.Engine().Model(c.Param("name"))
	if err != nil {
		return info, apperr.New(apperr.NotFound, "model %q not found", c.Param("name"))
	}
	if v := c.Param("version"); v != "" && v != info.Version {
		return info, apperr.New(apperr.NotFound, "model %q has no version %q (current: %s)", info.Name, v, info.Version)
	}
	return info, nil
}

func (s *Server) v2ModelMeta(c echo.Context) error {
	info, err := s.v2Model(c)
	if err != nil {
		return s.v2Fail(c, err)
	}
	// A model that takes any batch says so the protocol's way: -1 for a
	// variable dimension.
	meta := func(specs []inference.TensorSpec) []v2Meta {
		out := make([]v2Meta, len(specs))
		for i, sp := range specs {
			shape := slices.Clone(sp.Shape)
			if info.Batch && len(shape) > 0 && shape[0] == 1 {
				shape[0] = -1
			}
			out[i] = v2Meta{Name: sp.Name, Datatype: "FP32", Shape: shape}
		}
		return out
	}
	return c.JSON(http.StatusOK, map[string]any{
		"name": info.Name, "versions": []string{info.Version}, "platform": "onnx",
		"inputs": meta(info.Inputs), "outputs": meta(info.Outputs),
	})
}

func (s *Server) v2ModelReady(c echo.Context) error {
	info, err := s.v2Model(c)
	if err != nil {
		return s.v2Fail(c, err)
	}
	ready := s.deps.Registry.Engine().Ready(info.Name)
	status := http.StatusOK
	if !ready {
		status = http.StatusServiceUnavailable
	}
	return c.JSON(status, map[string]any{"name": info.Name, "ready": ready})
}

func (s *Server) v2Infer(c echo.Context) error {
	info, err := s.v2Model(c)
	if err != nil {
		return s.v2Fail(c, err)
	}
	var req v2InferRequest
	if err := decodeJSON(c, &req); err != nil {
		return s.v2Fail(c, err)
	}
	if len(req.Inputs) == 0 {
		return v2Error(c, http.StatusBadRequest, "inputs must hold at least one tensor")
	}
	inputs := make([]inference.Tensor, len(req.Inputs))
	for i, in := range req.Inputs {
		if in.Datatype != "FP32" {
			return v2Error(c, http.StatusBadRequest, "input %q: datatype %q is not supported; send FP32", in.Name, in.Datatype)
		}
		data, err := flattenFP32(in.Data)
		if err != nil {
			return v2Error(c, http.StatusBadRequest, "input %q: %v", in.Name, err)
		}
		inputs[i] = inference.Tensor{Name: in.Name, Shape: in.Shape, Data: data}
	}
	res, err := s.deps.Registry.Predict(c.Request().Context(), info.Name, inputs, "v2")
	if err != nil {
		return s.v2Fail(c, err)
	}
	want := map[string]bool{}
	for _, o := range req.Outputs {
		want[o.Name] = true
	}
	outs := make([]v2TensorOut, 0, len(res.Tensors))
	for _, t := range res.Tensors {
		if len(want) > 0 && !want[t.Name] {
			continue
		}
		outs = append(outs, v2TensorOut{Name: t.Name, Shape: t.Shape, Datatype: "FP32", Data: t.Data})
	}
	for name := range want {
		found := false
		for _, o := range outs {
			found = found || o.Name == name
		}
		if !found {
			return v2Error(c, http.StatusBadRequest, "model %q has no output %q", info.Name, name)
		}
	}
	resp := map[string]any{"model_name": res.Model, "model_version": res.Version, "outputs": outs}
	if req.ID != "" {
		resp["id"] = req.ID
	}
	return c.JSON(http.StatusOK, resp)
}

// maxV2Values bounds one request's tensor data.
const maxV2Values = 1 << 20

// flattenFP32 accepts the protocol's flat or nested (row-major) data.
func flattenFP32(raw json.RawMessage) ([]float32, error) {
	if len(raw) == 0 {
		return nil, errors.New("data is missing")
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, errors.New("data is not valid JSON")
	}
	var out []float32
	var walk func(any, int) error
	walk = func(x any, depth int) error {
		if depth > 8 {
			return errors.New("data is nested too deeply")
		}
		switch t := x.(type) {
		case float64:
			if len(out) >= maxV2Values {
				return fmt.Errorf("data holds more than %d values", maxV2Values)
			}
			if math.IsInf(t, 0) || math.Abs(t) > math.MaxFloat32 {
				return errors.New("data holds a value outside FP32 range")
			}
			out = append(out, float32(t))
		case []any:
			for _, e := range t {
				if err := walk(e, depth+1); err != nil {
					return err
				}
			}
		default:
			return errors.New("data must hold numbers (flat or nested arrays)")
		}
		return nil
	}
	if err := walk(v, 0); err != nil {
		return nil, err
	}
	return out, nil
}
