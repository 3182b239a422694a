package executor

import "strings"

// style applies ANSI SGR codes when colour is on and nothing otherwise, so a
// colourless log never contains an escape byte.
type style struct{ on bool }

func newStyle(on bool) style { return style{on: on} }

const (
	sgrReset  = "\x1b[0m"
	sgrBold   = "\x1b[1m"
	sgrRed    = "\x1b[31m"
	sgrGreen  = "\x1b[32m"
	sgrYellow = "\x1b[33m"
	sgrCyan   = "\x1b[36m"
	sgrGray   = "\x1b[90m"
)

func (s style) wrap(text string, codes ...string) string {
	if !s.on || text == "" {
		return text
	}
	return strings.Join(codes, "") + text + sgrReset
}

func (s style) bold(t string) string      { return s.wrap(t, sgrBold) }
func (s style) red(t string) string       { return s.wrap(t, sgrRed) }
func (s style) green(t string) string     { return s.wrap(t, sgrGreen) }
func (s style) yellow(t string) string    { return s.wrap(t, sgrYellow) }
func (s style) cyan(t string) string      { return s.wrap(t, sgrCyan) }
func (s style) gray(t string) string      { return s.wrap(t, sgrGray) }
func (s style) boldGreen(t string) string { return s.wrap(t, sgrBold, sgrGreen) }

// symbol colours an action marker the way Terraform does.
func (s style) symbol(sym string) string {
	switch sym {
	case "+":
		return s.green(sym)
	case "-":
		return s.red(sym)
	case "~":
		return s.yellow(sym)
	case "-/+":
		return s.red("-") + "/" + s.green("+")
	case "+/-":
		return s.green("+") + "/" + s.red("-")
	case "<=":
		return s.cyan(sym)
	}
	return sym
}
