package data

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ARFF (Weka's Attribute-Relation File Format) reader.
//
// Supported: % comments, @RELATION, @ATTRIBUTE with NUMERIC/REAL/INTEGER, nominal
// {a,b,c}, STRING and DATE ["format"] types, names and values quoted with ' or "
// (with Weka's backslash escapes), ? for a missing value, dense rows, sparse rows
// ({index value, ...}) and a trailing instance weight ({w}), which is ignored.
// RELATIONAL attributes are rejected as an unknown type.
//
// In a sparse row an unlisted attribute takes Weka's value 0: "0" for a numeric
// attribute and the first declared value for a nominal one. Weka's 0 for a string
// or date attribute is an index into its own string table or the epoch, neither of
// which means anything to a user, so those yield a missing cell instead.

// arffDefaultDate is Weka's format for a DATE attribute declared without one.
const arffDefaultDate = "yyyy-MM-dd'T'HH:mm:ss"

type arffAttr struct {
	name    string
	kind    Kind
	nominal map[string]bool // declared values of a nominal attribute
	first   string          // first declared nominal value: a sparse row's default
	date    *javaDate       // DATE attributes only
}

type arffSource struct {
	file   string
	br     *bufio.Reader
	line   int
	attrs  []arffAttr
	header []string
	hints  []Kind
	rec    []string
	err    error // sticky: once a row is bad, every later Next reports it
}

func newARFFSource(r io.Reader, file string) (source, error) {
	s := &arffSource{file: file, br: bufio.NewReader(r)}
	if err := s.readHeader(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *arffSource) Header() ([]string, error) { return s.header, nil }
func (s *arffSource) Hints() []Kind             { return s.hints }

func (s *arffSource) errorf(col int, sentinel error, format string, args ...any) error {
	pe := &ParseError{File: s.file, Line: s.line, Column: col, Err: fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)}
	if col > 0 && col <= len(s.attrs) {
		pe.ColumnName = s.attrs[col-1].name
	}
	return pe
}

// nextLine returns the next line that is neither blank nor a comment, with the
// comment stripped and surrounding space trimmed, or io.EOF.
func (s *arffSource) nextLine() (string, error) {
	for {
		raw, err := s.br.ReadString('\n')
		if raw == "" && err != nil {
			if err == io.EOF {
				return "", io.EOF
			}
			s.line++
			return "", s.errorf(0, ErrTruncated, "%v", err)
		}
		s.line++
		if s.line == 1 {
			raw = strings.TrimPrefix(raw, "\uFEFF")
		}
		if !utf8.ValidString(raw) {
			return "", s.errorf(0, ErrInvalidUTF8, "the line is not valid UTF-8")
		}
		if l := strings.TrimSpace(stripARFFComment(raw)); l != "" {
			return l, nil
		}
		if err != nil && err != io.EOF {
			return "", s.errorf(0, ErrTruncated, "%v", err)
		}
	}
}

// stripARFFComment cuts a line at the first % outside quotes: Weka's tokenizer
// treats % as a comment anywhere, not only at the start of a line.
func stripARFFComment(l string) string {
	var quote byte
	for i := 0; i < len(l); i++ {
		c := l[i]
		switch {
		case quote != 0 && c == '\\':
			i++
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
		case c == '\'' || c == '"':
			quote = c
		case c == '%':
			return l[:i]
		}
	}
	return l
}

// arffKeyword reports whether l starts with the @-keyword kw (case-insensitive)
// followed by a space or the end of the line, and returns the rest.
func arffKeyword(l, kw string) (string, bool) {
	if len(l) < len(kw) || !strings.EqualFold(l[:len(kw)], kw) {
		return "", false
	}
	rest := l[len(kw):]
	if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return "", false
	}
	return strings.TrimSpace(rest), true
}

func (s *arffSource) readHeader() error {
	sawAny := false
	for {
		l, err := s.nextLine()
		if err == io.EOF {
			if !sawAny {
				return &ParseError{File: s.file, Err: ErrEmpty}
			}
			return &ParseError{File: s.file, Line: s.line, Err: fmt.Errorf("%w: no @DATA section", ErrSyntax)}
		}
		if err != nil {
			return err
		}
		sawAny = true
		if _, ok := arffKeyword(l, "@relation"); ok {
			continue
		}
		if rest, ok := arffKeyword(l, "@attribute"); ok {
			if err := s.parseAttribute(rest); err != nil {
				return err
			}
			continue
		}
		if rest, ok := arffKeyword(l, "@data"); ok {
			if rest != "" {
				return s.errorf(0, ErrSyntax, "unexpected text after @DATA: %q", rest)
			}
			if len(s.attrs) == 0 {
				return s.errorf(0, ErrSyntax, "@DATA before any @ATTRIBUTE")
			}
			s.header = make([]string, len(s.attrs))
			s.hints = make([]Kind, len(s.attrs))
			for i, a := range s.attrs {
				s.header[i], s.hints[i] = a.name, a.kind
			}
			s.rec = make([]string, len(s.attrs))
			return nil
		}
		return s.errorf(0, ErrSyntax, "expected @RELATION, @ATTRIBUTE or @DATA, got %q", truncateForError(l))
	}
}

func (s *arffSource) parseAttribute(rest string) error {
	name, typ, err := arffName(rest)
	if err != nil {
		return s.errorf(0, ErrSyntax, "@ATTRIBUTE: %v", err)
	}
	if name == "" {
		return s.errorf(0, ErrSyntax, "@ATTRIBUTE without a name")
	}
	if typ == "" {
		return s.errorf(0, ErrSyntax, "@ATTRIBUTE %q has no type", name)
	}
	a := arffAttr{name: name}
	lower := strings.ToLower(typ)
	switch {
	case lower == "numeric" || lower == "real" || lower == "integer":
		a.kind = Numeric
	case lower == "string":
		a.kind = Text
	case typ[0] == '{':
		if typ[len(typ)-1] != '}' {
			return s.errorf(0, ErrSyntax, "nominal type of %q lacks the closing }", name)
		}
		vals, err := splitARFFFields(typ[1 : len(typ)-1])
		if err != nil {
			return s.errorf(0, ErrSyntax, "nominal values of %q: %v", name, err)
		}
		a.kind = Categorical
		a.nominal = make(map[string]bool, len(vals))
		for i, v := range vals {
			if i == 0 {
				a.first = v.text
			}
			a.nominal[v.text] = true
		}
	case strings.HasPrefix(lower, "date") && (len(lower) == 4 || lower[4] == ' ' || lower[4] == '\t'):
		layout := arffDefaultDate
		if f := strings.TrimSpace(typ[4:]); f != "" {
			uq, tail, err := arffToken(f)
			if err != nil || tail != "" {
				return s.errorf(0, ErrSyntax, "date format of %q: %q is not one quoted pattern", name, f)
			}
			layout = uq
		}
		jd, err := compileJavaDate(layout)
		if err != nil {
			return s.errorf(0, ErrSyntax, "date format of %q: %v", name, err)
		}
		a.kind, a.date = Datetime, jd
	default:
		return s.errorf(0, ErrSyntax, "unknown type %q for attribute %q", truncateForError(typ), name)
	}
	s.attrs = append(s.attrs, a)
	return nil
}

// arffName splits "name type" where name may be quoted; an unquoted name ends at
// space or at the { of a nominal type written without a space.
func arffName(s string) (name, rest string, err error) {
	if s == "" {
		return "", "", nil
	}
	if s[0] == '\'' || s[0] == '"' {
		name, rest, err = arffToken(s)
		return name, strings.TrimSpace(rest), err
	}
	i := strings.IndexAny(s, " \t{")
	if i < 0 {
		return s, "", nil
	}
	return s[:i], strings.TrimSpace(s[i:]), nil
}

// arffToken reads one value that starts at s[0]: a quoted string (with Weka's
// backslash escapes) or, unquoted, everything up to the end. It returns the text
// and what follows a closing quote.
func arffToken(s string) (text, rest string, err error) {
	if s == "" || (s[0] != '\'' && s[0] != '"') {
		return s, "", nil
	}
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == q:
			return b.String(), strings.TrimSpace(s[i+1:]), nil
		case c == '\\' && i+1 < len(s):
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			default:
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", "", errors.New("unterminated quote")
}

type arffField struct {
	text   string
	quoted bool
}

// splitARFFFields splits on commas outside quotes and unquotes each field.
func splitARFFFields(s string) ([]arffField, error) {
	var out []arffField
	for {
		s = strings.TrimLeft(s, " \t")
		var f arffField
		if s != "" && (s[0] == '\'' || s[0] == '"') {
			text, rest, err := arffToken(s)
			if err != nil {
				return nil, err
			}
			f = arffField{text: text, quoted: true}
			s = rest
			if s != "" && s[0] != ',' {
				return nil, fmt.Errorf("unexpected text %q after a quoted value", truncateForError(s))
			}
		} else {
			i := strings.IndexByte(s, ',')
			if i < 0 {
				i = len(s)
			}
			f.text = strings.TrimSpace(s[:i])
			s = s[i:]
		}
		out = append(out, f)
		if s == "" {
			return out, nil
		}
		s = s[1:] // the comma
	}
}

func (s *arffSource) Next() ([]string, int, error) {
	if s.err != nil {
		return nil, s.line, s.err
	}
	rec, err := s.next()
	if err != nil {
		s.err = err
		return nil, s.line, err
	}
	return rec, s.line, nil
}

func (s *arffSource) next() ([]string, error) {
	l, err := s.nextLine()
	if err != nil {
		return nil, err
	}
	if l[0] == '{' {
		return s.sparseRow(l)
	}
	fields, err := splitARFFFields(l)
	if err != nil {
		return nil, s.errorf(0, ErrQuote, "%v", err)
	}
	// Weka appends an instance weight as a last field "{w}"; we have no use for it.
	if n := len(fields); n == len(s.attrs)+1 && !fields[n-1].quoted && strings.HasPrefix(fields[n-1].text, "{") {
		fields = fields[:n-1]
	}
	if len(fields) != len(s.attrs) {
		return nil, s.errorf(0, ErrRagged, "%d values, expected %d", len(fields), len(s.attrs))
	}
	for i, f := range fields {
		v, err := s.cell(i, f)
		if err != nil {
			return nil, err
		}
		s.rec[i] = v
	}
	return s.rec, nil
}

func (s *arffSource) sparseRow(l string) ([]string, error) {
	body := l[1:]
	closeAt := closingBrace(body)
	if closeAt < 0 {
		return nil, s.errorf(0, ErrSyntax, "sparse row lacks the closing }")
	}
	// Only an instance weight ", {w}" may follow; we have no use for it.
	if tail := strings.TrimSpace(body[closeAt+1:]); tail != "" && !(strings.HasPrefix(tail, ",") && strings.HasPrefix(strings.TrimSpace(tail[1:]), "{")) {
		return nil, s.errorf(0, ErrSyntax, "unexpected text %q after a sparse row", truncateForError(tail))
	}
	for i, a := range s.attrs {
		switch a.kind {
		case Numeric:
			s.rec[i] = "0"
		case Categorical:
			s.rec[i] = a.first
		default:
			s.rec[i] = ""
		}
	}
	inner := strings.TrimSpace(body[:closeAt])
	if inner == "" {
		return s.rec, nil
	}
	entries, err := splitSparseEntries(inner)
	if err != nil {
		return nil, s.errorf(0, ErrQuote, "%v", err)
	}
	for _, e := range entries {
		e = strings.TrimSpace(e)
		sp := strings.IndexAny(e, " \t")
		if sp < 0 {
			return nil, s.errorf(0, ErrSyntax, "sparse entry %q is not \"index value\"", truncateForError(e))
		}
		idx, err := strconv.Atoi(e[:sp])
		if err != nil || idx < 0 || idx >= len(s.attrs) {
			return nil, s.errorf(0, ErrSyntax, "sparse index %q is not an attribute index 0..%d", truncateForError(e[:sp]), len(s.attrs)-1)
		}
		val := strings.TrimSpace(e[sp:])
		text, rest, err := arffToken(val)
		if err != nil || rest != "" {
			return nil, s.errorf(idx+1, ErrQuote, "bad value %q", truncateForError(val))
		}
		quoted := val[0] == '\'' || val[0] == '"'
		v, err := s.cell(idx, arffField{text: text, quoted: quoted})
		if err != nil {
			return nil, err
		}
		s.rec[idx] = v
	}
	return s.rec, nil
}

// closingBrace returns the index of the first } outside quotes, or -1.
func closingBrace(s string) int {
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == '\\':
			i++
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
		case c == '\'' || c == '"':
			quote = c
		case c == '}':
			return i
		}
	}
	return -1
}

// splitSparseEntries splits "i v, j 'w, x'" on commas outside quotes, keeping
// the quotes for arffToken.
func splitSparseEntries(s string) ([]string, error) {
	var out []string
	var quote byte
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == '\\':
			i++
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
		case c == '\'' || c == '"':
			quote = c
		case c == ',':
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	if quote != 0 {
		return nil, errors.New("unterminated quote")
	}
	return append(out, s[start:]), nil
}

// cell checks and converts the value of attribute i.
func (s *arffSource) cell(i int, f arffField) (string, error) {
	if !f.quoted && f.text == "?" {
		return "", nil
	}
	a := &s.attrs[i]
	switch a.kind {
	case Categorical:
		if !a.nominal[f.text] {
			return "", s.errorf(i+1, ErrSyntax, "%q is not one of the declared values of %q", truncateForError(f.text), a.name)
		}
	case Datetime:
		t, err := a.date.parse(f.text)
		if err != nil {
			return "", s.errorf(i+1, ErrSyntax, "%q does not match the date format %q", truncateForError(f.text), a.date.pattern)
		}
		return formatRFC3339(t, a.date.hasTime), nil
	}
	return f.text, nil
}

// formatRFC3339 writes t in the form the frame builder reads for Datetime
// columns: a bare date when the format has no time of day, RFC 3339 in UTC otherwise.
func formatRFC3339(t time.Time, withTime bool) string {
	t = t.UTC()
	if !withTime {
		return t.Format("2006-01-02")
	}
	return t.Format(time.RFC3339Nano)
}

// truncateForError keeps error messages readable when a line is huge.
func truncateForError(s string) string {
	const max = 60
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// javaDate is a Java SimpleDateFormat pattern translated to a Go layout.
type javaDate struct {
	pattern string
	layout  string
	hasTime bool
}

func (d *javaDate) parse(s string) (time.Time, error) {
	return time.Parse(d.layout, s)
}

// javaTokens maps SimpleDateFormat letter runs to Go layout elements. Numeric
// fields map to Go's unpadded elements, which accept one or two digits, because
// SimpleDateFormat parses leniently ("2024-1-5" matches yyyy-MM-dd). Runs not
// listed (era, week, day-in-year, ...) are rejected rather than misread.
var javaTokens = map[string]string{
	"yyyy": "2006", "yyy": "2006", "y": "2006", "yy": "06",
	"MMMM": "January", "MMM": "Jan", "MM": "1", "M": "1",
	"dd": "2", "d": "2",
	"EEEE": "Monday", "EEE": "Mon", "E": "Mon",
	"HH": "15", "H": "15", "hh": "3", "h": "3",
	"mm": "4", "m": "4",
	"ss": "5", "s": "5",
	"a": "PM",
	"z": "MST", "zzz": "MST",
	"Z": "-0700", "X": "Z07", "XX": "Z0700", "XXX": "Z07:00",
}

// goLayoutWords are sequences that Go's time package would read as layout
// elements if they appeared in a literal part of the pattern.
var goLayoutWords = []string{"Jan", "Mon", "MST", "PM", "pm", "Z07", "_2", "__2"}

func compileJavaDate(p string) (*javaDate, error) {
	d := &javaDate{pattern: p}
	var b strings.Builder
	literal := func(lit string) error {
		for _, r := range lit {
			if r >= '0' && r <= '9' {
				return fmt.Errorf("digits in literal text %q are not supported", lit)
			}
		}
		for _, w := range goLayoutWords {
			if strings.Contains(lit, w) {
				return fmt.Errorf("literal text %q is not supported", lit)
			}
		}
		b.WriteString(lit)
		return nil
	}
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\'':
			if i+1 < len(p) && p[i+1] == '\'' {
				b.WriteByte('\'')
				i += 2
				continue
			}
			j := strings.IndexByte(p[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated quote in %q", p)
			}
			if err := literal(p[i+1 : i+1+j]); err != nil {
				return nil, err
			}
			i += j + 2
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			j := i
			for j < len(p) && p[j] == c {
				j++
			}
			run := p[i:j]
			i = j
			if c == 'S' {
				// Milliseconds are a fraction in Go and must follow a dot or comma.
				if b.Len() == 0 || (!strings.HasSuffix(b.String(), ".") && !strings.HasSuffix(b.String(), ",")) {
					return nil, fmt.Errorf("fraction of a second %q must follow '.' or ','", run)
				}
				b.WriteString(strings.Repeat("0", len(run)))
				d.hasTime = true
				continue
			}
			g, ok := javaTokens[run]
			if !ok {
				return nil, fmt.Errorf("unsupported pattern letters %q", run)
			}
			if strings.ContainsAny(run, "HhmsaS") {
				d.hasTime = true
			}
			b.WriteString(g)
		default:
			j := i
			for j < len(p) && p[j] != '\'' && !((p[j] >= 'a' && p[j] <= 'z') || (p[j] >= 'A' && p[j] <= 'Z')) {
				j++
			}
			if err := literal(p[i:j]); err != nil {
				return nil, err
			}
			i = j
		}
	}
	d.layout = b.String()
	if d.layout == "" {
		return nil, errors.New("empty pattern")
	}
	return d, nil
}
