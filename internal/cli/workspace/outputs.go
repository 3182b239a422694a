package workspace

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/admincmd"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/cli/complete"
	"github.com/tharsis-cli/tharsis/internal/ui"
)

// OutputsOptions are the inputs of `tharsis workspace outputs`.
type OutputsOptions struct {
	IO        *ui.IOStreams
	JSON      bool
	APIClient func() (*api.Client, error)

	Workspace string
	// Name selects one output.
	Name string
	Raw  bool
}

// NewCmdOutputs builds `tharsis workspace outputs`; runF replaces the real
// run in tests.
func NewCmdOutputs(f *cmdutil.Factory, runF func(context.Context, *OutputsOptions) error) *cobra.Command {
	opts := &OutputsOptions{IO: f.IO}
	var nameFlag string
	cmd := &cobra.Command{
		Use:   "outputs WORKSPACE [NAME]",
		Short: "Show the outputs of a workspace's current state",
		Long: `Show the root module outputs of the workspace's current state, as
'terraform output' does:

  tharsis workspace outputs WS             every output as name = value, sorted;
                                           sensitive values show as <sensitive>
  tharsis workspace outputs WS NAME        one value, sensitive or not
  tharsis workspace outputs WS --raw NAME  a string, number or bool as is, with no
                                           quotes and no newline (for scripts)
  -o json                                  {"NAME": {"sensitive", "type", "value"}}
                                           (sensitive values included, as terraform
                                           does); with NAME, only its value

Needs the viewer role.`,
		Example: `  tharsis workspace outputs ops/network
  tharsis workspace outputs ops/network vpc_id
  VPC=$(tharsis workspace outputs ops/network --raw vpc_id)
  tharsis workspace outputs ops/network -o json | jq .subnets.value`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Workspace = args[0]
			switch {
			case len(args) == 2 && nameFlag != "" && nameFlag != args[1]:
				return cmdutil.UsageErrorf("the output name is given twice (%q and --output-name %q)", args[1], nameFlag)
			case len(args) == 2:
				opts.Name = args[1]
			default:
				opts.Name = nameFlag
			}
			opts.JSON = f.JSON()
			if opts.Raw && opts.Name == "" {
				return cmdutil.UsageErrorf("--raw needs the output's NAME")
			}
			if opts.Raw && opts.JSON {
				return cmdutil.UsageErrorf("--raw and -o json cannot be combined")
			}
			opts.APIClient = f.APIClient
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runOutputs(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	fs.BoolVar(&opts.Raw, "raw", false, "Print the value of NAME as is (strings, numbers and booleans)")
	fs.StringVar(&nameFlag, "output-name", "", "Same as the NAME argument")
	fs.Lookup("output-name").Hidden = true
	admincmd.AddJSONFlag(cmd, f)
	cmd.ValidArgsFunction = complete.Workspaces(f)
	return cmd
}

// outputJSON is one output in -o json, as in `terraform output -json`.
type outputJSON struct {
	Sensitive bool            `json:"sensitive"`
	Type      json.RawMessage `json:"type"`
	Value     json.RawMessage `json:"value"`
}

func runOutputs(ctx context.Context, opts *OutputsOptions) error {
	const op = "get workspace outputs"
	id, err := normalizeID(opts.Workspace)
	if err != nil {
		return err
	}
	client, err := opts.APIClient()
	if err != nil {
		return err
	}
	resp, err := gql.GetWorkspaceOutputs(ctx, client.GraphQL(), id)
	if err != nil {
		return admincmd.ExplainWorkspace(api.WithOp(err, op), admincmd.RoleViewer, admincmd.PathOf(id))
	}
	if resp.Node == nil || *resp.Node == nil {
		return admincmd.NotFound(op, "workspace", opts.Workspace)
	}
	w, ok := (*resp.Node).(*gql.GetWorkspaceOutputsNodeWorkspace)
	if !ok {
		return admincmd.KindMismatch(op, "workspace", opts.Workspace, deref((*resp.Node).GetTypename()))
	}
	var outs []gql.GetWorkspaceOutputsNodeWorkspaceCurrentStateVersionOutputsStateVersionOutput
	if w.CurrentStateVersion != nil {
		outs = w.CurrentStateVersion.Outputs
	}
	slices.SortFunc(outs, func(a, b gql.GetWorkspaceOutputsNodeWorkspaceCurrentStateVersionOutputsStateVersionOutput) int {
		return strings.Compare(a.Name, b.Name)
	})

	if opts.Name != "" {
		i := slices.IndexFunc(outs, func(o gql.GetWorkspaceOutputsNodeWorkspaceCurrentStateVersionOutputsStateVersionOutput) bool {
			return o.Name == opts.Name
		})
		if i < 0 {
			msg := fmt.Sprintf("output %q not found in workspace %s", opts.Name, w.FullPath)
			hint := "List the outputs with: tharsis workspace outputs " + w.FullPath
			if w.CurrentStateVersion == nil {
				msg, hint = fmt.Sprintf("output %q not found: workspace %s has no state yet", opts.Name, w.FullPath), "Apply a run first."
			}
			return &api.Error{Kind: api.KindNotFound, Op: op, Message: msg, Hint: hint, Code: "NOT_FOUND"}
		}
		o := outs[i]
		if opts.JSON {
			_, err := fmt.Fprintln(opts.IO.Out, compact(o.Value))
			return err
		}
		v, err := decodeOutput(o.Value, o.Type)
		if err != nil {
			return fmt.Errorf("%s: output %q: %w", op, o.Name, err)
		}
		if opts.Raw {
			s, err := rawValue(o.Name, v)
			if err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			_, err = fmt.Fprint(opts.IO.Out, s)
			return err
		}
		_, err = fmt.Fprintln(opts.IO.Out, formatValue(v, 0))
		return err
	}

	if opts.JSON {
		all := map[string]outputJSON{}
		for _, o := range outs {
			all[o.Name] = outputJSON{Sensitive: o.Sensitive, Type: rawJSON(o.Type), Value: rawJSON(o.Value)}
		}
		return opts.IO.PrintJSON(all)
	}
	if len(outs) == 0 {
		if w.CurrentStateVersion == nil {
			fmt.Fprintf(opts.IO.ErrOut, "Workspace %s has no state yet, so no outputs.\n", w.FullPath)
		} else {
			fmt.Fprintf(opts.IO.ErrOut, "Workspace %s has no outputs.\n", w.FullPath)
		}
		return nil
	}
	var b strings.Builder
	for _, o := range outs {
		if o.Sensitive {
			fmt.Fprintf(&b, "%s = <sensitive>\n", o.Name)
			continue
		}
		v, err := decodeOutput(o.Value, o.Type)
		if err != nil {
			return fmt.Errorf("%s: output %q: %w", op, o.Name, err)
		}
		fmt.Fprintf(&b, "%s = %s\n", o.Name, formatValue(v, 0))
	}
	_, err = fmt.Fprint(opts.IO.Out, b.String())
	return err
}

// rawJSON keeps a JSON document as is, or makes a string of anything that
// is not valid JSON.
func rawJSON(s string) json.RawMessage {
	if json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	b, _ := json.Marshal(s)
	return b
}

func compact(s string) string {
	return string(rawJSON(s))
}
