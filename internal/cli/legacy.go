package cli

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// legacyFlagNames maps flags of the reference CLI that are spelt differently
// here; the value is the new flag (with its value for -json).
var legacyFlagNames = map[string]string{
	"log":  "log-level",
	"json": "output=json",
}

// rewriteLegacyArgs makes command lines written for the reference CLI parse:
// it used Go-style single-dash long flags (-auto-approve, -directory-path=DIR,
// -tf-var k=v) and accepted `-flag true|false` for booleans. Each single-dash
// word that names a long flag of the command being run becomes its
// double-dash form; anything else is left for cobra to judge. Notices go to
// warn (nil: none).
func rewriteLegacyArgs(root *cobra.Command, args []string, warn func(string)) []string {
	out := make([]string, 0, len(args))
	cmd := root
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			out = append(out, args[i:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			// A subcommand name moves us down the tree; anything else is a
			// positional argument.
			if sub := findSub(cmd, a); sub != nil {
				cmd = sub
			}
			out = append(out, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		doubleDash := strings.HasPrefix(a, "--")
		if !doubleDash && (name == "help" || name == "version") && !hasValue {
			// cobra adds these flags only when it runs; they always exist.
			out = append(out, "--"+name)
			continue
		}
		fl := lookupFlag(cmd, name)
		if !doubleDash && len(name) > 1 {
			if fl == nil {
				if alt, ok := legacyFlagNames[name]; ok {
					altName, altValue, altHas := strings.Cut(alt, "=")
					if f := lookupFlag(cmd, altName); f != nil {
						fl = f
						if altHas {
							value, hasValue = altValue, true
						}
						name = altName
					}
				}
			}
			if fl != nil {
				a = "--" + name
				if hasValue {
					a += "=" + value
				}
			}
		}
		if fl == nil {
			out = append(out, a)
			continue
		}
		isBool := fl.Value.Type() == "bool" || fl.NoOptDefVal != ""
		switch {
		case hasValue:
			out = append(out, a)
		case isBool:
			// The reference CLI's deprecated `-flag true|false` form.
			if i+1 < len(args) && (args[i+1] == "true" || args[i+1] == "false") {
				if warn != nil {
					warn("Warning: '" + args[i] + " " + args[i+1] + "' is deprecated; write --" + fl.Name + "=" + args[i+1])
				}
				a = "--" + fl.Name + "=" + args[i+1]
				i++
			}
			out = append(out, a)
		default:
			// The next word is this flag's value, never a subcommand.
			out = append(out, a)
			if i+1 < len(args) {
				out = append(out, args[i+1])
				i++
			}
		}
	}
	return out
}

func findSub(cmd *cobra.Command, name string) *cobra.Command {
	for _, c := range cmd.Commands() {
		if c.Name() == name || c.HasAlias(name) {
			return c
		}
	}
	return nil
}

// lookupFlag finds a flag of cmd by long name or shorthand, including the
// persistent flags it inherits.
func lookupFlag(cmd *cobra.Command, name string) *pflag.Flag {
	for c := cmd; c != nil; c = c.Parent() {
		for _, fs := range []*pflag.FlagSet{c.Flags(), c.PersistentFlags()} {
			if f := fs.Lookup(name); f != nil {
				return f
			}
			if len(name) == 1 {
				if f := fs.ShorthandLookup(name); f != nil {
					return f
				}
			}
		}
	}
	return nil
}
