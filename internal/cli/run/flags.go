package run

import (
	"github.com/spf13/pflag"

	"github.com/tharsis-cli/tharsis/pkg/envfile"
	"github.com/tharsis-cli/tharsis/pkg/tfvars"
)

// orderedValue is a repeatable flag that appends to a list shared with its
// sibling flag, so --tf-var and --tf-var-file keep their command-line order
// (a later one wins, as with Terraform's -var and -var-file).
type orderedValue[A any] struct {
	list *[]A
	make func(string) A
	seen []string
}

func (v *orderedValue[A]) String() string { return "" }
func (v *orderedValue[A]) Type() string   { return "stringArray" }
func (v *orderedValue[A]) Set(s string) error {
	*v.list = append(*v.list, v.make(s))
	v.seen = append(v.seen, s)
	return nil
}

// GetSlice lets completion and docs read the values back.
func (v *orderedValue[A]) GetSlice() []string { return v.seen }

func addVariableFlags(fs *pflag.FlagSet, o *CreateOptions) {
	fs.Var(&orderedValue[tfvars.Arg]{list: &o.TFVars, make: tfvars.VarArg}, "tf-var",
		"Terraform variable `key=value` (repeatable; later flags win)")
	fs.Var(&orderedValue[tfvars.Arg]{list: &o.TFVars, make: tfvars.FileArg}, "tf-var-file",
		"Terraform variables `file` (.tfvars or .tfvars.json; repeatable)")
	fs.Var(&orderedValue[envfile.Arg]{list: &o.EnvVars, make: envfile.VarArg}, "env-var",
		"environment variable `KEY=value` for the run (repeatable)")
	fs.Var(&orderedValue[envfile.Arg]{list: &o.EnvVars, make: envfile.FileArg}, "env-var-file",
		"environment variables `file`, dotenv style (repeatable)")
}
