package runflow

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
	"github.com/tharsis-cli/tharsis/pkg/slug"
)

// Variable is a run variable as the API takes it.
type Variable struct {
	Key      string
	Value    string
	Category string // "terraform" | "environment"
}

// Spec describes the run to create. Exactly one source is set: Directory,
// ModuleSource or ConfigurationVersionID.
type Spec struct {
	Workspace string // path, TRN or GID

	Directory              string
	ModuleSource           string
	ModuleVersion          string
	IncludePrereleases     bool
	ConfigurationVersionID string

	Speculative      bool
	Destroy          bool
	AutoApply        bool // server-side auto apply
	Refresh          bool
	RefreshOnly      bool
	Targets          []string
	TerraformVersion string
	Comment          string
	Variables        []Variable

	Slug slug.Options
}

// Validate checks the parts of the spec that need no server.
func (s *Spec) Validate() error {
	n := 0
	for _, set := range []bool{s.Directory != "", s.ModuleSource != "", s.ConfigurationVersionID != ""} {
		if set {
			n++
		}
	}
	switch {
	case n != 1:
		return errors.New("exactly one source is needed: a directory, a module source or a configuration version")
	case s.ModuleVersion != "" && s.ModuleSource == "":
		return errors.New("--module-version needs --module-source")
	case s.IncludePrereleases && s.ModuleSource == "":
		return errors.New("--include-module-prereleases needs --module-source")
	case strings.EqualFold(s.ModuleVersion, "latest"):
		return errors.New(`"latest" is not a module version: leave --module-version out to get the latest version`)
	case s.RefreshOnly && s.Destroy:
		return errors.New("--refresh-only cannot be combined with a destroy run")
	}
	return nil
}

// Create packages and uploads the configuration when the source is a
// directory, then creates the run. The run exists once Create returns
// without error; the caller owns it from then on (follow, apply, cancel).
func (e *Engine) Create(ctx context.Context, spec Spec) (*Run, error) {
	if err := spec.Validate(); err != nil {
		return nil, &api.Error{Kind: api.KindBadRequest, Op: "create run", Message: err.Error()}
	}
	ws, err := e.GetWorkspace(ctx, spec.Workspace)
	if err != nil {
		return nil, err
	}

	cvID := spec.ConfigurationVersionID
	if cvID != "" {
		// The API answers createRun for an unknown configuration version
		// with an internal error: look it up first to say what is wrong.
		if err := e.checkConfigurationVersion(ctx, cvID); err != nil {
			return nil, err
		}
	}
	if spec.Directory != "" {
		cvID, err = e.uploadDirectory(ctx, ws, spec)
		if err != nil {
			return nil, err
		}
	}

	in := gql.CreateRunInput{
		WorkspaceId:     &ws.Id,
		IsDestroy:       &spec.Destroy,
		Refresh:         &spec.Refresh,
		RefreshOnly:     &spec.RefreshOnly,
		Speculative:     &spec.Speculative,
		TargetAddresses: spec.Targets,
	}
	if cvID != "" {
		in.ConfigurationVersionId = &cvID
	}
	if spec.ModuleSource != "" {
		in.ModuleSource = &spec.ModuleSource
		in.IncludeModulePrereleases = &spec.IncludePrereleases
		if spec.ModuleVersion != "" {
			in.ModuleVersion = &spec.ModuleVersion
		}
	}
	if spec.AutoApply {
		in.AutoApply = &spec.AutoApply
	}
	if spec.TerraformVersion != "" {
		in.TerraformVersion = &spec.TerraformVersion
	}
	if spec.Comment != "" {
		in.Comment = &spec.Comment
	}
	for _, v := range spec.Variables {
		in.Variables = append(in.Variables, gql.RunVariableInput{
			Category: gql.VariableCategory(v.Category), Key: v.Key, Value: v.Value,
		})
	}

	if e.BeforeCreate != nil {
		if err := e.BeforeCreate(); err != nil {
			return nil, err
		}
	} else if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Once sent, createRun is allowed to finish even if ctx ends, so a run
	// is never created without the caller learning its ID.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), createTimeout)
	defer cancel()
	resp, err := gql.CreateRun(cctx, e.API.GraphQL(), in)
	if err != nil {
		// The answer may be lost while the run exists; the configuration
		// version was made by this call, so a run using it is ours.
		if spec.Directory != "" {
			if run := e.findRunOf(ctx, ws.Id, cvID); run != nil {
				e.emit(Event{Type: EventNotice, Message: fmt.Sprintf("The answer to the request that creates the run was lost (%v); run %s was created from this configuration version.", err, run.Id)})
				e.emit(Event{Type: EventRunCreated, RunID: run.Id, WorkspacePath: ws.FullPath, Status: string(run.Status)})
				return run, nil
			}
		}
		return nil, wrapErr("create run", err)
	}
	if err := api.ProblemsOf("create run", resp.CreateRun.Problems); err != nil {
		return nil, err
	}
	if resp.CreateRun.Run == nil {
		return nil, &api.Error{Kind: api.KindInternal, Op: "create run", Message: "the server returned no run"}
	}
	run := &resp.CreateRun.Run.RunFields
	e.emit(Event{Type: EventRunCreated, RunID: run.Id, WorkspacePath: ws.FullPath, Status: string(run.Status)})
	return run, nil
}

// checkConfigurationVersion fails when id names no configuration version
// the caller can see.
func (e *Engine) checkConfigurationVersion(ctx context.Context, id string) error {
	resp, err := gql.GetConfigurationVersion(ctx, e.API.GraphQL(), id)
	if err != nil {
		if api.KindOf(err) == api.KindNotFound || api.KindOf(err) == api.KindBadRequest {
			return notFound("configuration version", id)
		}
		return wrapErr("read configuration version", err)
	}
	if resp.Node == nil {
		return notFound("configuration version", id)
	}
	if _, ok := (*resp.Node).(*gql.GetConfigurationVersionNodeConfigurationVersion); !ok {
		return notFound("configuration version", id)
	}
	return nil
}

// findRunOf returns the workspace's run created from the configuration
// version, among its latest runs; nil when there is none or the lookup
// fails (the caller keeps its own error then).
func (e *Engine) findRunOf(ctx context.Context, wsID, cvID string) *Run {
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	resp, err := gql.ListRuns(lctx, e.API.GraphQL(), wsID, 20, nil)
	if err != nil {
		return nil
	}
	for _, edge := range resp.Runs.Edges {
		if edge == nil || edge.Node == nil {
			continue
		}
		if cv := edge.Node.ConfigurationVersion; cv != nil && cv.Id == cvID {
			return &edge.Node.RunFields
		}
	}
	return nil
}

// createTimeout bounds the createRun mutation, which ignores cancellation.
const createTimeout = 2 * time.Minute

// DestroyWorkspace creates a destroy run from the configuration behind the
// workspace's current state (the API's destroyWorkspace).
func (e *Engine) DestroyWorkspace(ctx context.Context, ws *gql.WorkspaceFields) (*Run, error) {
	resp, err := gql.DestroyWorkspace(ctx, e.API.GraphQL(), gql.DestroyWorkspaceInput{WorkspaceId: &ws.Id})
	if err != nil {
		return nil, wrapErr("destroy workspace", err)
	}
	if err := api.ProblemsOf("destroy workspace", resp.DestroyWorkspace.Problems); err != nil {
		return nil, explainDestroyProblem(err, ws.FullPath)
	}
	if resp.DestroyWorkspace.Run == nil {
		return nil, noRun("destroy workspace")
	}
	run := &resp.DestroyWorkspace.Run.RunFields
	e.emit(Event{Type: EventRunCreated, RunID: run.Id, WorkspacePath: ws.FullPath, Status: string(run.Status)})
	return run, nil
}

func explainDestroyProblem(err error, ws string) error {
	ae, ok := err.(*api.Error)
	if !ok {
		return err
	}
	cp := *ae
	switch {
	case strings.Contains(ae.Message, "no current state version"):
		cp.Message = fmt.Sprintf("workspace %s has no state: there is nothing to destroy", ws)
		cp.Hint = ""
	case strings.Contains(ae.Message, "created manually"):
		cp.Message = fmt.Sprintf("the state of workspace %s was not produced by a run, so there is no configuration to destroy it with", ws)
		cp.Hint = "run `tharsis destroy` from the configuration's directory (--directory-path)"
	case strings.Contains(ae.Message, "does not allow destroy"):
		cp.Message = fmt.Sprintf("workspace %s forbids destroy plans (preventDestroyPlan is set)", ws)
		cp.Hint = fmt.Sprintf("an owner can allow them with `tharsis workspace update %s --prevent-destroy-plan=false`", ws)
	}
	return &cp
}

// uploadDirectory packs the directory, creates a configuration version,
// uploads the slug and waits until the server reports it uploaded.
func (e *Engine) uploadDirectory(ctx context.Context, ws *gql.WorkspaceFields, spec Spec) (string, error) {
	res, err := slug.Pack(ctx, spec.Directory, spec.Slug)
	if err != nil {
		return "", err
	}
	defer func() { _ = res.Remove() }()
	for _, w := range res.Warnings {
		e.emit(Event{Type: EventNotice, Message: w})
	}
	e.emit(Event{Type: EventPackaged, Files: res.Files, Bytes: res.Size, SHA256: res.SHA256})

	resp, err := gql.CreateConfigurationVersion(ctx, e.API.GraphQL(), gql.CreateConfigurationVersionInput{
		WorkspaceId: &ws.Id, Speculative: &spec.Speculative,
	})
	if err != nil {
		return "", wrapErr("create configuration version", err)
	}
	if err := api.ProblemsOf("create configuration version", resp.CreateConfigurationVersion.Problems); err != nil {
		return "", err
	}
	cv := resp.CreateConfigurationVersion.ConfigurationVersion
	if cv == nil {
		return "", &api.Error{Kind: api.KindInternal, Op: "create configuration version", Message: "the server returned no configuration version"}
	}

	f, err := os.Open(res.Path)
	if err != nil {
		return "", fmt.Errorf("open packed configuration: %w", err)
	}
	defer f.Close()
	if err := e.API.UploadConfigurationVersion(ctx, ws.Id, cv.Id, f, res.Size); err != nil {
		return "", wrapErr("upload configuration", err)
	}
	if err := e.waitUploaded(ctx, cv.Id); err != nil {
		return "", err
	}
	e.emit(Event{Type: EventUploaded, ConfigurationVersionID: cv.Id, Bytes: res.Size})
	return cv.Id, nil
}

// waitUploaded polls the configuration version until it leaves "pending".
// The upload handler is synchronous, so this normally takes one request.
func (e *Engine) waitUploaded(ctx context.Context, cvID string) error {
	delay := e.pollMin()
	for {
		resp, err := gql.GetConfigurationVersion(ctx, e.API.GraphQL(), cvID)
		if err != nil {
			return wrapErr("read configuration version", err)
		}
		if resp.Node == nil {
			return notFound("configuration version", cvID)
		}
		cv, ok := (*resp.Node).(*gql.GetConfigurationVersionNodeConfigurationVersion)
		if !ok {
			return &api.Error{Kind: api.KindInternal, Op: "read configuration version", Message: cvID + " is not a configuration version"}
		}
		switch cv.Status {
		case "uploaded":
			return nil
		case "pending":
		default:
			return &api.Error{Kind: api.KindInternal, Op: "upload configuration",
				Message: fmt.Sprintf("the configuration version ended in status %q", cv.Status),
				Hint:    "try again; if it keeps failing, ask your Tharsis administrator"}
		}
		if err := sleep(ctx, delay); err != nil {
			return err
		}
		delay = min(delay*2, e.pollMax())
	}
}
