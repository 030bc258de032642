package data

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// sameColumn compares values by meaning: NaN equals NaN, categorical cells by
// their level text.
func sameColumn(t *testing.T, what string, got, want *Column) {
	t.Helper()
	if got.Kind != want.Kind || got.Len() != want.Len() {
		t.Fatalf("%s: kind %v len %d, want kind %v len %d", what, got.Kind, got.Len(), want.Kind, want.Len())
	}
	for i := range want.Len() {
		switch want.Kind {
		case Categorical, Text:
			if got.IsMissing(i) != want.IsMissing(i) || !want.IsMissing(i) && got.Levels[got.Codes[i]] != want.Levels[want.Codes[i]] {
				t.Fatalf("%s: row %d = %q, want %q", what, i, got.Format(i), want.Format(i))
			}
		default:
			g, w := got.Num[i], want.Num[i]
			if math.Float64bits(g) != math.Float64bits(w) && !(math.IsNaN(g) && math.IsNaN(w)) {
				t.Fatalf("%s: row %d = %v, want %v", what, i, g, w)
			}
		}
	}
}

func TestChunkRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	nan := math.NaN()
	big := &Column{Kind: Numeric}
	for i := range 3*ChunkRows + 17 {
		big.Num = append(big.Num, float64(rng.IntN(1000)-500))
		if i%97 == 0 {
			big.Num[i] = nan
		}
	}
	texts := &Column{Kind: Text, Levels: []string{"", "hello world", "ünïcödé", "x"}}
	for i := range 1000 {
		texts.Codes = append(texts.Codes, int32(i%5)-1)
	}
	tests := []struct {
		name string
		col  *Column
	}{
		{"small integers", numCol(1, 2, 3, nan, -7)},
		{"integer extremes", numCol(math.MaxInt64, -9.223372036854775808e18, 0, 1, -1)},
		{"floats", numCol(0.1, -2.5, math.Inf(1), math.Inf(-1), nan, 1e300)},
		{"negative zero forces floats", numCol(0, math.Copysign(0, -1), 1)},
		{"all missing", numCol(nan, nan, nan)},
		{"no rows", numCol()},
		{"datetimes", &Column{Kind: Datetime, Num: []float64{1706659200, 1706659200.5, nan}}},
		{"categories", catCol([]string{"b", "a", "unused"}, 0, 1, -1, 0)},
		{"text with empty level", texts},
		{"many chunks", big},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rebuilt := &Column{Name: "r"}
			for from := 0; from < max(tt.col.Len(), 1); from += ChunkRows {
				to := min(from+ChunkRows, tt.col.Len())
				b := EncodeChunk(tt.col, from, to)
				frag, err := DecodeChunk(b)
				if err != nil {
					t.Fatal(err)
				}
				if frag.Name != "" {
					t.Errorf("fragment named %q", frag.Name)
				}
				sameColumn(t, "fragment", frag, tt.col.Slice(from, to))
				if err := rebuilt.Append(frag); err != nil {
					t.Fatal(err)
				}
			}
			sameColumn(t, "appended", rebuilt, tt.col)
		})
	}
}

func TestChunkIntegersAreSmall(t *testing.T) {
	c := &Column{Kind: Numeric}
	for i := range ChunkRows {
		c.Num = append(c.Num, float64(1_700_000_000+i))
	}
	if n := len(EncodeChunk(c, 0, ChunkRows)); n > ChunkRows/8 {
		t.Errorf("%d sequential integers took %d bytes", ChunkRows, n)
	}
}

func TestDecodeChunkErrors(t *testing.T) {
	good := EncodeChunk(numCol(1, 2, 3), 0, 3)
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"header only", good[:3], ErrTruncated},
		{"cut body", good[:len(good)-2], ErrTruncated},
		{"wrong version", append([]byte{9}, good[1:]...), ErrCodec},
		{"wrong kind", append([]byte{1, 0}, good[2:]...), ErrCodec},
		{"row count too big", append([]byte{1, 1, 0xff, 0xff, 0x03}, good[3:]...), ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecodeChunk(tt.b); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestAppend(t *testing.T) {
	a := catCol([]string{"x", "y"}, 0, 1)
	shared := a.Slice(0, 1) // shares Levels with a
	if err := a.Append(catCol([]string{"z", "x"}, 0, 1, -1)); err != nil {
		t.Fatal(err)
	}
	if got := []string{a.Format(0), a.Format(1), a.Format(2), a.Format(3), a.Format(4)}; got[2] != "z" || got[3] != "x" || got[4] != "" || len(a.Levels) != 3 {
		t.Errorf("values %q levels %q", got, a.Levels)
	}
	if err := shared.Append(catCol([]string{"w"}, 0)); err != nil {
		t.Fatal(err)
	}
	if a.Levels[2] != "z" || shared.Format(1) != "w" {
		t.Errorf("shared levels clobbered: %q / %q", a.Levels, shared.Levels)
	}
	if err := a.Append(numCol(1)); err == nil {
		t.Error("kind mismatch accepted")
	}
}

func FuzzDecodeChunk(f *testing.F) {
	nan := math.NaN()
	for _, c := range []*Column{
		numCol(1, 2, 3, nan), numCol(0.5, nan, math.Inf(1)), numCol(),
		catCol([]string{"a", "bb"}, 0, 1, -1, 1),
		{Kind: Text, Levels: []string{"hello world"}, Codes: []int32{0, -1}},
		{Kind: Datetime, Num: []float64{1e9, nan}},
	} {
		f.Add(EncodeChunk(c, 0, c.Len()))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeChunk(b)
		if err != nil {
			return
		}
		// Whatever decodes must survive another round trip unchanged.
		again, err := DecodeChunk(EncodeChunk(c, 0, c.Len()))
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		sameColumn(t, "re-decoded", again, c)
	})
}
