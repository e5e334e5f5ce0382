package cpubackend

import (
	"context"
	"fmt"
	"slices"

	"gorgonia.org/tensor"

	"github.com/taskmind/taskmind/internal/inference/kernels"
)

// Options configure Compile.
type Options struct {
	// Opset is the model's default-domain opset: Softmax, Squeeze and
	// Unsqueeze changed meaning at 13.
	Opset int64
	// Kernels computes the matrix products; nil means kernels.Default().
	// Weights are packed for it, so a plan keeps the set it was built with.
	Kernels *kernels.Set
	// ArenaBudget bounds the floats an instance keeps for all the layouts
	// it holds, the current one included: inputs whose layout alone exceeds
	// it are refused (0: no bound beyond four layouts).
	ArenaBudget int
}

// Plan is a compiled model. It is immutable and safe for concurrent use;
// each goroutine runs it through an Instance of its own.
type Plan struct {
	set         *kernels.Set
	arenaBudget int
	values      []value
	steps       []step
	inputs      []int // value ids of the graph inputs, in the caller's order
	outputs     []int
	names       []string // of the outputs
}

// value is one tensor of the plan: a constant (k set), a shape value
// (shaped set: INT64, computed per layout) or a float tensor computed per
// run.
type value struct {
	name   string
	k      *constant
	shaped bool
}

// constant is a tensor known at compile time. Exactly one of f32 and i64 is
// set.
type constant struct {
	shape []int
	f32   []float32
	i64   []int64
}

// step runs one (possibly fused) operator.
type step struct {
	name string
	op   op
	in   []int // value ids; -1 for an absent optional operand
	out  int
}

// view is a tensor during a run: its shape and its buffer.
type view struct {
	shape []int
	data  []float32
}

// op is a compiled operator. Compile-time state (packed weights, attribute
// values) is read-only once Compile returns.
type op interface {
	// infer returns the output shape for the operand shapes (nil for an
	// absent optional operand).
	infer(in [][]int) ([]int, error)
	// bind returns the function that computes out from in, for the shapes
	// infer accepted; it may allocate scratch space, once per shape.
	bind(in []view, out view) (func(), error)
}

// finalizer is an operator with work to do once fusion is over, such as
// packing its weights for the plan's kernel set.
type finalizer interface{ finalize(*kernels.Set) }

// aliasOp marks operators whose output is their first operand's buffer with
// another shape (Reshape, Flatten, Squeeze, …): no kernel writes into its
// operands, so sharing is safe.
type aliasOp interface{ alias() }

// Compile builds a plan that computes the given outputs (node ids, as in
// onnx.Model.Output) from the named graph inputs.
func (g *Graph) Compile(inputs []string, outputs []int64, opts Options) (p *Plan, err error) {
	set := opts.Kernels
	if set == nil {
		set = kernels.Default()
	}
	c := &compiler{g: g, opts: opts, set: set, ids: map[*Node]int{}}
	p = &Plan{set: set, arenaBudget: opts.ArenaBudget}
	c.p = p
	byName := map[string]*Node{}
	for _, id := range g.nodeIDs() {
		n := g.Node(id).(*Node)
		// onnx-go gives graph inputs a placeholder tensor too; registering
		// them first keeps them from being taken for initializers.
		if n.producer == nil && n.name != "" {
			byName[n.name] = n
		}
	}
	for _, name := range inputs {
		n, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("cpubackend: no graph input %q", name)
		}
		if _, dup := c.ids[n]; dup {
			return nil, fmt.Errorf("cpubackend: input %q given twice", name)
		}
		p.values = append(p.values, value{name: n.name})
		c.ids[n] = len(p.values) - 1
		p.inputs = append(p.inputs, len(p.values)-1)
	}
	for _, on := range g.ops {
		if err := c.add(on); err != nil {
			return nil, fmt.Errorf("%s %q: %w", on.op.Name, on.outs[0].name, err)
		}
	}
	for _, id := range outputs {
		n, ok := g.Node(id).(*Node)
		if !ok {
			return nil, fmt.Errorf("cpubackend: no output node %d", id)
		}
		v, ok := c.ids[n]
		if !ok {
			return nil, fmt.Errorf("cpubackend: output %q is never computed", n.name)
		}
		if p.values[v].shaped {
			return nil, unsupported("output %q is an INT64 shape value", n.name)
		}
		p.outputs = append(p.outputs, v)
		p.names = append(p.names, n.name)
	}
	c.fuse()
	for _, s := range p.steps {
		if f, ok := s.op.(finalizer); ok {
			f.finalize(set)
		}
	}
	return p, nil
}

func (g *Graph) nodeIDs() []int64 {
	var ids []int64
	it := g.Nodes()
	for it.Next() {
		ids = append(ids, it.Node().ID())
	}
	slices.Sort(ids)
	return ids
}

// Kernels names the kernel set the plan runs on.
func (p *Plan) Kernels() string { return p.set.Name() }

// Operators lists the plan's steps after fusion, e.g. "Conv+Relu".
func (p *Plan) Operators() []string {
	ops := make([]string, len(p.steps))
	for i, s := range p.steps {
		ops[i] = s.name
	}
	return ops
}

// compiler holds Compile's working state.
type compiler struct {
	g    *Graph
	p    *Plan
	opts Options
	set  *kernels.Set
	ids  map[*Node]int
}

// valueOf returns n's value id, registering it (and its data, for an
// initializer) on first sight.
func (c *compiler) valueOf(n *Node) int {
	if id, ok := c.ids[n]; ok {
		return id
	}
	v := value{name: n.name}
	if n.producer == nil && n.t != nil {
		v.k, _ = constantOf(n.t) // an unsupported type stays unknown: using it fails
		if v.k == nil {
			v.k = &constant{} // marks "constant of an unsupported type"
		}
	}
	c.p.values = append(c.p.values, v)
	c.ids[n] = len(c.p.values) - 1
	return len(c.p.values) - 1
}

// constantOf copies a decoded tensor: the plan must not share memory with
// onnx-go's model, which the caller may drop or reuse.
func constantOf(t tensor.Tensor) (*constant, error) {
	shape := slices.Clone([]int(t.Shape()))
	if len(shape) == 1 && shape[0] == 1 && t.Dims() == 0 {
		shape = nil
	}
	switch d := t.Data().(type) {
	case []float32:
		return &constant{shape: shape, f32: slices.Clone(d)}, nil
	case float32:
		return &constant{shape: nil, f32: []float32{d}}, nil
	case []int64:
		return &constant{shape: shape, i64: slices.Clone(d)}, nil
	case int64:
		return &constant{shape: nil, i64: []int64{d}}, nil
	case []int32:
		v := make([]int64, len(d))
		for i, x := range d {
			v[i] = int64(x)
		}
		return &constant{shape: shape, i64: v}, nil
	case []float64:
		v := make([]float32, len(d))
		for i, x := range d {
			v[i] = float32(x)
		}
		return &constant{shape: shape, f32: v}, nil
	}
	return nil, unsupported("tensor of type %v", t.Dtype())
}

// operand is what an operator constructor knows of an input: its value id
// and, for a constant, its data.
type operand struct {
	id     int
	k      *constant
	shaped bool // a shape value: INT64, known only per layout
}

func (o operand) present() bool { return o.id >= 0 }

// add compiles one decoded node: a constant-producing node is evaluated now;
// anything else becomes a step.
func (c *compiler) add(on *opNode) error {
	if len(on.outs) > 1 {
		// Only Dropout has extra outputs we accept (the mask), and only
		// while nothing reads them.
		if on.op.Name != "Dropout" {
			return unsupported("%d outputs", len(on.outs))
		}
		for _, extra := range on.outs[1:] {
			if c.g.To(extra.id).Len() > 0 {
				return unsupported("Dropout's mask output is used")
			}
		}
	}
	nodes, err := c.g.operands(on)
	if err != nil {
		return err
	}
	if on.op.Name == "Constant" {
		k, err := constantAttr(on.op.Attributes)
		if err != nil {
			return err
		}
		id := c.valueOf(on.outs[0])
		c.p.values[id].k = k
		return nil
	}
	ins := make([]operand, len(nodes))
	allConst := true
	for i, n := range nodes {
		if n == nil {
			ins[i] = operand{id: -1}
			continue
		}
		id := c.valueOf(n)
		ins[i] = operand{id: id, k: c.p.values[id].k, shaped: c.p.values[id].shaped}
		if ins[i].k != nil && ins[i].k.f32 == nil && ins[i].k.i64 == nil && len(ins[i].k.shape) == 0 {
			return unsupported("operand %q has an unsupported type", n.name)
		}
		if ins[i].k == nil {
			allConst = false
		}
	}
	if done, err := c.addShapeValue(on, ins); done || err != nil {
		return err
	}
	o, err := newOp(on.op, ins, c.opts.Opset)
	if err != nil {
		return err
	}
	for i, in := range ins {
		if in.shaped && !(on.op.Name == "Reshape" && i == 1) {
			return unsupported("operand %d is a shape value computed at run time; only Gather, Slice, Squeeze, Unsqueeze, Concat and Reshape's shape may read one", i)
		}
		// Integer operands are shapes, axes and pads, read by the
		// constructor; only the operators that take them may have them.
		if in.k != nil && in.k.f32 == nil && !(readsInts(o) && i > 0) {
			return unsupported("operand %d is not float32", i)
		}
	}
	out := c.valueOf(on.outs[0])
	s := step{name: on.op.Name, op: o, out: out}
	for _, in := range ins {
		s.in = append(s.in, in.id)
	}
	if allConst && len(ins) > 0 {
		k, err := c.fold(s)
		if err != nil {
			return err
		}
		c.p.values[out].k = k
		return nil
	}
	c.p.steps = append(c.p.steps, s)
	return nil
}

// fold evaluates a step whose operands are all constants.
func (c *compiler) fold(s step) (*constant, error) {
	if f, ok := s.op.(finalizer); ok {
		f.finalize(c.set)
	}
	views := make([]view, len(s.in))
	shapes := make([][]int, len(s.in))
	_, alias := s.op.(aliasOp)
	for i, id := range s.in {
		if id < 0 {
			continue
		}
		k := c.p.values[id].k
		if readsInts(s.op) && i > 0 {
			shapes[i] = k.shape // a shape or axes operand, read at construction
			continue
		}
		if k.f32 == nil {
			return nil, unsupported("folding %s over int64 operands", s.name)
		}
		views[i] = view{shape: k.shape, data: k.f32}
		shapes[i] = k.shape
	}
	shape, err := s.op.infer(shapes)
	if err != nil {
		return nil, err
	}
	if alias {
		return &constant{shape: shape, f32: slices.Clone(views[0].data)}, nil
	}
	out := view{shape: shape, data: make([]float32, elements(shape))}
	run, err := s.op.bind(views, out)
	if err != nil {
		return nil, err
	}
	run()
	return &constant{shape: shape, f32: out.data}, nil
}

// readsInts reports whether an operator reads its INT64 operands beyond
// the first (shapes, axes, pads) at construction.
func readsInts(o op) bool {
	switch o.(type) {
	case aliasOp, *padOp:
		return true
	}
	return false
}

// consumers counts the steps reading each value, plus one for a graph
// output, so fusion leaves shared values alone.
func (c *compiler) consumers() []int {
	n := make([]int, len(c.p.values))
	for _, s := range c.p.steps {
		for _, id := range s.in {
			if id >= 0 {
				n[id]++
			}
		}
	}
	for _, id := range c.p.outputs {
		n[id]++
	}
	return n
}

// fuse merges a step into the producer of its operand where the producer
// can absorb it (a bias, a batch normalisation, an activation), repeating
// until nothing changes.
func (c *compiler) fuse() {
	for changed := true; changed; {
		changed = false
		uses := c.consumers()
		producer := map[int]int{}
		for i, s := range c.p.steps {
			producer[s.out] = i
		}
		for i, s := range c.p.steps {
			if len(s.in) == 0 || s.in[0] < 0 {
				continue
			}
			pi, ok := producer[s.in[0]]
			if !ok || uses[s.in[0]] != 1 || pi >= i {
				continue
			}
			prev := &c.p.steps[pi]
			f, ok := prev.op.(fuser)
			if !ok {
				continue
			}
			var extra []*constant
			for _, id := range s.in[1:] {
				if id < 0 {
					extra = append(extra, nil)
					continue
				}
				extra = append(extra, c.p.values[id].k)
			}
			if !f.absorb(s.op, extra) {
				continue
			}
			prev.name += "+" + s.name
			prev.out = s.out
			c.p.steps = slices.Delete(c.p.steps, i, i+1)
			changed = true
			break
		}
	}
}

// fuser is an operator that can take over the next one.
type fuser interface {
	// absorb reports whether the operator now also computes next, whose
	// operands beyond the first are extra (nil where not constant).
	absorb(next op, extra []*constant) bool
}

// Instance runs a plan. It is not safe for concurrent use: it owns the
// buffers of the run in progress.
type Instance struct {
	p        *Plan
	bindings []*binding // most recently used first
	outs     []Output
}

// binding is a plan laid out for one set of input shapes.
type binding struct {
	shapes [][]int
	views  []view
	ints   [][]int64 // the shape values' data, by value id
	run    []func()
	size   int // floats in its arena
}

// maxBindings bounds the input shapes an instance keeps buffers for.
const maxBindings = 4

// Output is a computed tensor. Its Data belongs to the instance and is
// overwritten by the next Run.
type Output struct {
	Name  string
	Shape []int
	Data  []float32
}

// NewInstance returns an instance with no buffers yet; they are laid out
// on the first run of each input shape.
func (p *Plan) NewInstance() *Instance {
	return &Instance{p: p, outs: make([]Output, len(p.outputs))}
}

// Run computes the plan's outputs from inputs (one per graph input, in
// Compile's order, with their shapes). The context is checked between
// steps. The result is valid until the next Run.
func (in *Instance) Run(ctx context.Context, shapes [][]int, data [][]float32) ([]Output, error) {
	if len(shapes) != len(in.p.inputs) || len(data) != len(in.p.inputs) {
		return nil, fmt.Errorf("cpubackend: %d inputs for a plan of %d", len(data), len(in.p.inputs))
	}
	b, err := in.bind(shapes)
	if err != nil {
		return nil, err
	}
	for i, id := range in.p.inputs {
		dst := b.views[id].data
		if len(data[i]) != len(dst) {
			return nil, fmt.Errorf("cpubackend: input %d has %d values for shape %v", i, len(data[i]), shapes[i])
		}
		copy(dst, data[i])
	}
	for _, run := range b.run {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		run()
	}
	for i, id := range in.p.outputs {
		v := b.views[id]
		in.outs[i] = Output{Name: in.p.names[i], Shape: v.shape, Data: v.data}
	}
	return in.outs, nil
}

// bind finds or builds the binding for shapes.
func (in *Instance) bind(shapes [][]int) (*binding, error) {
	for i, b := range in.bindings {
		if sameShapes(b.shapes, shapes) {
			if i > 0 {
				copy(in.bindings[1:i+1], in.bindings[:i])
				in.bindings[0] = b
			}
			return b, nil
		}
	}
	b, err := in.p.layout(shapes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrShape, err)
	}
	// Keep the most recent layouts, within maxBindings and the plan's
	// memory budget, so that callers varying the batch cannot pile up
	// arenas.
	total := b.size
	keep := 0
	for _, old := range in.bindings {
		if keep+1 >= maxBindings || (in.p.arenaBudget > 0 && total+old.size > in.p.arenaBudget) {
			break
		}
		total += old.size
		keep++
	}
	clear(in.bindings[keep:])
	in.bindings = slices.Insert(in.bindings[:keep], 0, b)
	return b, nil
}

// ArenaFloats is the size of the buffers the instance keeps.
func (in *Instance) ArenaFloats() int {
	n := 0
	for _, b := range in.bindings {
		n += b.size
	}
	return n
}

func sameShapes(a, b [][]int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !slices.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// layout works out every value's shape for the input shapes, carves the
// computed values out of one arena and binds each step to its buffers.
func (p *Plan) layout(shapes [][]int) (*binding, error) {
	b, size, err := p.shapesFor(shapes)
	if err != nil {
		return nil, err
	}
	if p.arenaBudget > 0 && size > p.arenaBudget {
		// Refused before the arena exists: a layout over the budget is the
		// one allocation the budget is there to prevent.
		return nil, fmt.Errorf("cpubackend: inputs of shapes %v need %d floats of buffers; the limit is %d", shapes, size, p.arenaBudget)
	}
	b.size = size
	arena := make([]float32, size)
	take := func(n int) []float32 {
		buf := arena[:n:n]
		arena = arena[n:]
		return buf
	}
	for i, id := range p.inputs {
		b.views[id].data = take(elements(b.shapes[i]))
	}
	for _, s := range p.steps {
		in := make([]view, len(s.in))
		for j, id := range s.in {
			if id >= 0 {
				in[j] = b.views[id]
			}
		}
		out := &b.views[s.out]
		if _, ok := s.op.(shapeValueOp); ok {
			continue // computed with the shapes
		}
		if _, ok := s.op.(aliasOp); ok {
			out.data = in[0].data
			continue
		}
		out.data = take(elements(out.shape))
		run, err := s.op.bind(in, *out)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		b.run = append(b.run, run)
	}
	return b, nil
}

func elements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// shapesFor works out every value's shape for the input shapes, and the
// arena size in floats that the computed values need.
func (p *Plan) shapesFor(shapes [][]int) (*binding, int, error) {
	b := &binding{views: make([]view, len(p.values))}
	for _, s := range shapes {
		b.shapes = append(b.shapes, slices.Clone(s))
	}
	for i, v := range p.values {
		if v.k != nil {
			b.views[i] = view{shape: v.k.shape, data: v.k.f32}
		}
	}
	known := make([]bool, len(p.values))
	for i, v := range p.values {
		known[i] = v.k != nil
		if v.shaped && b.ints == nil {
			b.ints = make([][]int64, len(p.values))
		}
	}
	size := 0
	for i, id := range p.inputs {
		for _, d := range shapes[i] {
			if d <= 0 {
				return nil, 0, fmt.Errorf("cpubackend: input shape %v", shapes[i])
			}
		}
		b.views[id].shape = b.shapes[i]
		size += elements(b.shapes[i])
		known[id] = true
	}
	for _, s := range p.steps {
		in := make([][]int, len(s.in))
		var vals [][]int64
		for j, id := range s.in {
			if id < 0 {
				continue
			}
			if !known[id] {
				return nil, 0, fmt.Errorf("cpubackend: %s reads %q before it is computed", s.name, p.values[id].name)
			}
			in[j] = b.views[id].shape
			if v := p.values[id]; v.shaped || (v.k != nil && v.k.i64 != nil) {
				if vals == nil {
					vals = make([][]int64, len(s.in))
				}
				if v.k != nil {
					vals[j] = v.k.i64
				} else {
					vals[j] = b.ints[id]
				}
			}
		}
		var shape []int
		var err error
		switch o := s.op.(type) {
		case shapeValueOp:
			shape, b.ints[s.out], err = o.eval(in, vals)
		case *reshapeOp:
			shape, err = o.inferInts(in, vals)
		default:
			shape, err = s.op.infer(in)
		}
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", s.name, err)
		}
		b.views[s.out].shape = shape
		known[s.out] = true
		switch s.op.(type) {
		case aliasOp, shapeValueOp:
		default:
			size += elements(shape)
		}
	}
	return b, size, nil
}

// ArenaSize is how many floats an instance allocates for inputs of these
// shapes; callers use it to bound the batch a model may take.
func (p *Plan) ArenaSize(shapes [][]int) (int, error) {
	_, size, err := p.shapesFor(shapes)
	return size, err
}
