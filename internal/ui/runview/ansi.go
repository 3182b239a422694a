package runview

import "io"

// ansiStripper removes ANSI escape sequences (CSI such as colours, OSC such
// as hyperlinks, and two-byte escapes) from a byte stream. Sequences may be
// split across writes: the state carries over, so a log streamed in chunks
// is cleaned exactly as the whole log would be.
type ansiStripper struct {
	w     io.Writer
	state uint8
	buf   []byte
}

const (
	ansiText uint8 = iota
	ansiEsc
	ansiEscIntermediate
	ansiCSI
	ansiOSC
	ansiOSCEsc
)

// StripANSI wraps w so that escape sequences never reach it.
func StripANSI(w io.Writer) io.Writer { return &ansiStripper{w: w} }

func (s *ansiStripper) Write(p []byte) (int, error) {
	s.buf = s.buf[:0]
	for _, b := range p {
		switch s.state {
		case ansiText:
			if b == 0x1b {
				s.state = ansiEsc
				continue
			}
			s.buf = append(s.buf, b)
		case ansiEsc:
			switch {
			case b == 0x1b:
				// ESC ESC: the first was stray, the second starts a sequence.
			case b == '[':
				s.state = ansiCSI
			case b == ']':
				s.state = ansiOSC
			case b >= 0x20 && b <= 0x2f:
				s.state = ansiEscIntermediate
			default:
				s.state = ansiText // a two-byte escape: drop both
			}
		case ansiEscIntermediate:
			switch {
			case b == 0x1b:
				s.state = ansiEsc
			case b < 0x20 || b > 0x2f:
				s.state = ansiText
			}
		case ansiCSI:
			switch {
			case b >= 0x40 && b <= 0x7e:
				s.state = ansiText // final byte
			case b >= 0x20 && b <= 0x3f:
				// parameters and intermediates
			case b == 0x1b:
				s.state = ansiEsc // a new sequence cuts this one short
			default:
				// Not a valid sequence: keep the byte, drop what came before.
				s.state = ansiText
				s.buf = append(s.buf, b)
			}
		case ansiOSC:
			switch b {
			case 0x07:
				s.state = ansiText
			case 0x1b:
				s.state = ansiOSCEsc
			}
		case ansiOSCEsc:
			if b == '\\' {
				s.state = ansiText
			} else {
				s.state = ansiOSC
			}
		}
	}
	if len(s.buf) > 0 {
		if _, err := s.w.Write(s.buf); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}
