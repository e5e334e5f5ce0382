package inference

import (
	"fmt"
	"slices"

	"gorgonia.org/gorgonia"
)

// syncVM runs a gorgonia expression graph in the calling goroutine.
//
// gorgonia's own machines (TapeMachine, LispMachine) execute the ops in a
// goroutine they start for every run, and a panicking op there takes the
// whole process down: no recover in the caller can reach it. Several
// gorgonnx operators panic on inputs the pre-parse cannot rule out (gorgonia
// indexes with a negative Concat axis, for one), so gorgonnx instances run
// on this machine instead, where the instance's recover catches everything.
// It executes each op's Do in dependency order; gorgonnx graphs are
// forward-only, so nothing else of the TapeMachine is needed.
type syncVM struct {
	steps []syncStep // dependencies before dependents
	args  []gorgonia.Value
}

type syncStep struct {
	node     *gorgonia.Node
	op       gorgonia.Op
	operands []*gorgonia.Node // in the op's argument order
}

var _ gorgonia.VM = (*syncVM)(nil)

func newSyncVM(g *gorgonia.ExprGraph) (*syncVM, error) {
	sorted, err := gorgonia.Sort(g) // roots first
	if err != nil {
		return nil, err
	}
	slices.Reverse(sorted)
	v := &syncVM{}
	for _, n := range sorted {
		if n.Op() == nil {
			continue
		}
		st := syncStep{node: n, op: n.Op()}
		for it := g.From(n.ID()); it.Next(); {
			st.operands = append(st.operands, it.Node().(*gorgonia.Node))
		}
		v.steps = append(v.steps, st)
	}
	return v, nil
}

// RunAll computes every node that has an op; inputs and constants keep the
// values bound to them.
func (v *syncVM) RunAll() error {
	for _, st := range v.steps {
		v.args = v.args[:0]
		for _, c := range st.operands {
			val := c.Value()
			if val == nil {
				return fmt.Errorf("%v: operand %v has no value", st.op, c)
			}
			v.args = append(v.args, val)
		}
		out, err := st.op.Do(v.args...)
		if err != nil {
			return fmt.Errorf("%v: %w", st.op, err)
		}
		if err := gorgonia.UnsafeLet(st.node, out); err != nil {
			return fmt.Errorf("%v: %w", st.op, err)
		}
	}
	return nil
}

// Reset is a no-op: every run recomputes every node.
func (v *syncVM) Reset() {}

// Close has nothing to release.
func (v *syncVM) Close() error { return nil }
