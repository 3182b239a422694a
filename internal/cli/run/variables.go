package run

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/internal/cli/cmdutil"
	"github.com/tharsis-cli/tharsis/internal/cli/complete"
)

// VariablesOptions are the options of `run variables`.
type VariablesOptions struct {
	F             *cmdutil.Factory
	Run           string
	ShowSensitive bool
}

// NewCmdVariables lists the effective variables of a run.
func NewCmdVariables(f *cmdutil.Factory, runF func(context.Context, *VariablesOptions) error) *cobra.Command {
	opts := &VariablesOptions{F: f}
	cmd := &cobra.Command{
		Use:   "variables <run>",
		Short: "List the variables a run used, and where each came from",
		Long: `List the effective variables of a run: key, category (terraform or
environment), the namespace they were inherited from ("run" for variables
given when the run was created) and the value.

Sensitive values are masked; --show-sensitive reveals them when your role
allows it (deployer or owner). Viewers see keys only.`,
		Example: `  tharsis run variables Ul8xMjM0...
  tharsis run variables Ul8xMjM0... --show-sensitive -o json`,
		Args: cmdutil.ExactArgs("run"),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Run = args[0]
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runVariables(c.Context(), opts)
		},
		ValidArgsFunction: complete.Runs(f),
	}
	cmd.Flags().BoolVar(&opts.ShowSensitive, "show-sensitive", false, "show sensitive values (needs a deployer or owner role)")
	return cmd
}

// VariableView is one run variable in the JSON output. Value is null when
// it is masked or the caller may not see it.
type VariableView struct {
	Key       string  `json:"key"`
	Category  string  `json:"category"`
	Namespace string  `json:"namespace"`
	Sensitive bool    `json:"sensitive"`
	Value     *string `json:"value"`
}

const masked = "(sensitive)"

func runVariables(ctx context.Context, o *VariablesOptions) error {
	client, err := o.F.APIClient()
	if err != nil {
		return err
	}
	id := runRef(o.Run)
	resp, err := gql.GetRunVariables(ctx, client.GraphQL(), id)
	if err != nil {
		if api.KindOf(err) == api.KindForbidden {
			// Keep the kind: not authorized is exit 4.
			return &api.Error{Kind: api.KindForbidden, Message: fmt.Sprintf("you may not see the variables of run %s", o.Run),
				Hint: "ask an owner of the workspace for at least the viewer role"}
		}
		return err
	}
	if resp.Node == nil {
		return &api.Error{Kind: api.KindNotFound, Op: "read run variables", Message: fmt.Sprintf("run %q was not found, or you are not allowed to see it", o.Run)}
	}
	run, ok := (*resp.Node).(*gql.GetRunVariablesNodeRun)
	if !ok {
		return fmt.Errorf("%s is not a run", o.Run)
	}

	secrets := map[string]string{}
	if o.ShowSensitive {
		sresp, err := gql.GetRunSensitiveValues(ctx, client.GraphQL(), run.Id)
		switch {
		case api.KindOf(err) == api.KindForbidden:
			return &api.Error{Kind: api.KindForbidden, Message: "you may not see sensitive values: it needs the deployer or owner role on the workspace",
				Hint: "run the command without --show-sensitive to see the other variables"}
		case err != nil:
			return err
		}
		if sresp.Node != nil {
			if sr, ok := (*sresp.Node).(*gql.GetRunSensitiveValuesNodeRun); ok {
				for _, s := range sr.SensitiveVariableValues {
					secrets[s.VersionId] = s.Value
				}
			}
		}
	}

	views := make([]VariableView, 0, len(run.Variables))
	canSeeValues := false
	for _, v := range run.Variables {
		vv := VariableView{Key: v.Key, Category: string(v.Category), Namespace: "run", Sensitive: v.Sensitive}
		if v.NamespacePath != nil {
			vv.Namespace = *v.NamespacePath
		}
		switch {
		case v.Sensitive:
			if s, ok := secrets[ptr(v.VersionId)]; ok {
				vv.Value = &s
			}
		case v.Value != nil:
			canSeeValues = true
			val := *v.Value
			vv.Value = &val
		}
		views = append(views, vv)
	}
	// A viewer gets every value as null: say so rather than print blanks.
	hidden := !canSeeValues && hasNonSensitive(views)

	if o.F.JSON() {
		return o.F.PrintJSON(struct {
			RunID        string         `json:"run_id"`
			ValuesHidden bool           `json:"values_hidden"`
			Variables    []VariableView `json:"variables"`
		}{run.Id, hidden, views})
	}
	if len(views) == 0 {
		fmt.Fprintf(o.F.IO.ErrOut, "Run %s has no variables.\n", run.Id)
		return nil
	}
	t := o.F.IO.NewTable("KEY", "CATEGORY", "FROM", "VALUE")
	for _, v := range views {
		val := ""
		switch {
		case v.Value != nil:
			val = *v.Value
		case v.Sensitive:
			val = masked
		case hidden:
			val = "(hidden)"
		}
		t.AddRow(v.Key, v.Category, v.Namespace, val)
	}
	if err := t.Render(); err != nil {
		return err
	}
	if hidden {
		fmt.Fprintln(o.F.IO.ErrOut, "Note: you may not see variable values with your role (viewer); a deployer or owner can.")
	}
	return nil
}

func hasNonSensitive(vs []VariableView) bool {
	for _, v := range vs {
		if !v.Sensitive {
			return true
		}
	}
	return false
}
