package data

// Slice returns rows [i, j) of c. The result shares Levels with c and copies
// the row values, so it stays valid when c is modified or released.
func (c *Column) Slice(i, j int) *Column {
	out := &Column{Name: c.Name, Kind: c.Kind, Levels: c.Levels}
	if c.Kind == Categorical || c.Kind == Text {
		out.Codes = append([]int32(nil), c.Codes[i:j]...)
	} else {
		out.Num = append([]float64(nil), c.Num[i:j]...)
	}
	return out
}

// Slice returns rows [i, j) of f; see Column.Slice.
func (f *Frame) Slice(i, j int) *Frame {
	out := &Frame{Columns: make([]*Column, len(f.Columns))}
	for k, c := range f.Columns {
		out.Columns[k] = c.Slice(i, j)
	}
	return out
}
