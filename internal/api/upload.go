package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/hashicorp/go-retryablehttp"
)

// UploadConfigurationVersion uploads a packed configuration (tar.gz) to a
// configuration version: PUT <tfe.v2>workspaces/<ws>/configuration-versions/<cv>/upload,
// where tfe.v2 comes from the server's /.well-known/terraform.json. Both IDs
// must be GIDs (the REST routes take no TRNs). size bytes are streamed from
// body's current position, which is rewound for each retry; a 409 after a
// retry means an earlier attempt got through and counts as success.
func (c *Client) UploadConfigurationVersion(ctx context.Context, workspaceID, cvID string, body io.ReadSeeker, size int64) error {
	const op = "upload configuration version"
	if !IsGID(cvID) {
		return &Error{Kind: KindBadRequest, Op: op, Message: fmt.Sprintf("configuration version ID %q is not a GID", cvID), Hint: "Pass the id returned by createConfigurationVersion."}
	}
	if !IsGID(workspaceID) {
		return &Error{Kind: KindBadRequest, Op: op, Message: fmt.Sprintf("workspace ID %q is not a GID", workspaceID), Hint: "Pass the workspace's id (for example the configuration version's workspaceId)."}
	}
	if size < 0 {
		return &Error{Kind: KindBadRequest, Op: op, Message: fmt.Sprintf("invalid upload size %d", size)}
	}
	base, err := c.tfeV2URL(ctx)
	if err != nil {
		return err
	}
	u := base + "workspaces/" + url.PathEscape(workspaceID) + "/configuration-versions/" + url.PathEscape(cvID) + "/upload"
	return c.upload(ctx, op, u, body, size, "configuration version was already uploaded",
		"Create a new configuration version to upload the configuration again.")
}

// UploadModuleVersion uploads a module package (tar.gz) to
// PUT <endpoint>/v1/module-registry/versions/{id}/upload, streaming size
// bytes from body like UploadConfigurationVersion.
func (c *Client) UploadModuleVersion(ctx context.Context, moduleVersionID string, body io.ReadSeeker, size int64) error {
	const op = "upload module version"
	if !IsGID(moduleVersionID) {
		return &Error{Kind: KindBadRequest, Op: op, Message: fmt.Sprintf("module version ID %q is not a GID", moduleVersionID)}
	}
	u := c.endpoint + "/v1/module-registry/versions/" + url.PathEscape(moduleVersionID) + "/upload"
	return c.upload(ctx, op, u, body, size, "module version package was already uploaded",
		"Create a new module version to upload the package again.")
}

func (c *Client) upload(ctx context.Context, op, u string, body io.ReadSeeker, size int64, conflictMsg, conflictHint string) error {
	if size < 0 {
		return &Error{Kind: KindBadRequest, Op: op, Message: fmt.Sprintf("invalid upload size %d", size)}
	}
	start, err := body.Seek(0, io.SeekCurrent)
	if err != nil {
		return &Error{Kind: KindUnknown, Op: op, Message: "cannot seek the upload body: " + err.Error(), Err: err}
	}
	// Each attempt reads its own view of the body: with io.ReaderAt (files)
	// no offset is shared with a previous attempt's connection that may
	// still be writing.
	var raw any
	if size > 0 {
		raw = retryablehttp.ReaderFunc(func() (io.Reader, error) {
			if ra, ok := body.(io.ReaderAt); ok {
				return io.NewSectionReader(ra, start, size), nil
			}
			if _, err := body.Seek(start, io.SeekStart); err != nil {
				return nil, err
			}
			return io.LimitReader(body, size), nil
		})
	}
	st := &reqState{mode: modeIdempotent}
	rreq, err := retryablehttp.NewRequestWithContext(withState(ctx, st), http.MethodPut, u, raw)
	if err != nil {
		return &Error{Kind: KindBadRequest, Op: op, Message: err.Error(), Err: err}
	}
	rreq.ContentLength = size
	rreq.Header.Set("Content-Type", "application/octet-stream")
	c.log.Debug("api: upload", "url", u, "bytes", size)

	resp, err := c.restRetry.Do(rreq)
	if err != nil {
		return c.failure(ctx, op, st, err, false)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil
	case resp.StatusCode == http.StatusConflict && st.attempts > 1:
		c.log.Debug("api: upload already stored by an earlier attempt", "attempts", st.attempts)
		return nil
	case resp.StatusCode == http.StatusConflict:
		return &Error{Kind: KindConflict, Op: op, Message: conflictMsg, Hint: conflictHint, StatusCode: resp.StatusCode}
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := responseError(op, resp.StatusCode, resp.Header.Get("Content-Type"), data)
	if st.gaveUp() {
		return exhausted(e, st.attempts)
	}
	return e
}

// tfeV2URL returns the tfe.v2 service URL (ending in "/") from the
// server's Terraform service discovery document, cached per client. A server
// without the document (404) is assumed to serve <endpoint>/tfe/v2/.
func (c *Client) tfeV2URL(ctx context.Context) (string, error) {
	c.discoveryMu.Lock()
	defer c.discoveryMu.Unlock()
	if c.tfeV2 != "" {
		return c.tfeV2, nil
	}
	const op = "discover Terraform services"
	st := &reqState{mode: modeIdempotent}
	rreq, err := retryablehttp.NewRequestWithContext(withState(ctx, st), http.MethodGet, c.endpoint+"/.well-known/terraform.json", nil)
	if err != nil {
		return "", &Error{Kind: KindBadRequest, Op: op, Message: err.Error(), Err: err}
	}
	rreq.Header.Set("Accept", "application/json")
	resp, err := c.gqlRetry.Do(rreq)
	if err != nil {
		return "", c.failure(ctx, op, st, err, false)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if err != nil {
		return "", c.failure(ctx, op, &reqState{}, err, false)
	}
	fallback := c.endpoint + "/tfe/v2/"
	switch {
	case resp.StatusCode == http.StatusNotFound:
		c.log.Debug("api: no service discovery document; using the default tfe.v2 path")
		c.tfeV2 = fallback
		return c.tfeV2, nil
	case resp.StatusCode != http.StatusOK:
		e := responseError(op, resp.StatusCode, resp.Header.Get("Content-Type"), data)
		if st.gaveUp() {
			return "", exhausted(e, st.attempts)
		}
		return "", e
	}
	var doc map[string]any
	if !looksLikeJSONObject(data) || json.Unmarshal(data, &doc) != nil {
		return "", notAPIError(op, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	v, _ := doc["tfe.v2"].(string)
	if v == "" {
		c.log.Debug("api: discovery document has no tfe.v2; using the default path")
		c.tfeV2 = fallback
		return c.tfeV2, nil
	}
	baseURL, _ := url.Parse(c.endpoint + "/")
	ref, err := url.Parse(v)
	if err != nil {
		return "", &Error{Kind: KindUnknown, Op: op, Message: fmt.Sprintf("the server advertises an invalid tfe.v2 URL %q", v), Err: err}
	}
	resolved := baseURL.ResolveReference(ref)
	if resolved.Scheme != "http" && resolved.Scheme != "https" {
		return "", &Error{Kind: KindUnknown, Op: op, Message: fmt.Sprintf("the server advertises an unsupported tfe.v2 URL %q", v)}
	}
	s := resolved.String()
	if !strings.HasSuffix(s, "/") {
		s += "/"
	}
	c.tfeV2 = s
	return s, nil
}
