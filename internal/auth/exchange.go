package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Khan/genqlient/graphql"

	"github.com/tharsis-cli/tharsis/internal/api"
)

// NewAPIExchanger returns an Exchanger that talks to the API through c,
// which must be unauthenticated (api.Config.TokenSource nil): the exchange
// is how a token is obtained in the first place.
func NewAPIExchanger(c *api.Client) Exchanger { return &apiExchanger{c: c} }

type apiExchanger struct{ c *api.Client }

// createTokenMutation is serviceAccountCreateToken. It lives here rather
// than in internal/api/gql/operations because its result is a secret that
// only this package handles.
const createTokenMutation = `mutation ServiceAccountCreateToken($input: ServiceAccountCreateTokenInput!) {
  serviceAccountCreateToken(input: $input) {
    token
    expiresIn
    problems {
      message
      field
      type
    }
  }
}`

type createTokenData struct {
	ServiceAccountCreateToken struct {
		Token     *string `json:"token"`
		ExpiresIn *int    `json:"expiresIn"`
		Problems  []struct {
			Message string   `json:"message"`
			Field   []string `json:"field"`
			Type    string   `json:"type"`
		} `json:"problems"`
	} `json:"serviceAccountCreateToken"`
}

func (e *apiExchanger) CreateToken(ctx context.Context, saID, oidcToken string) (Token, error) {
	const op = "create service account token"
	var data createTokenData
	req := &graphql.Request{
		OpName: "ServiceAccountCreateToken",
		Query:  createTokenMutation,
		Variables: map[string]any{"input": map[string]any{
			"serviceAccountId": saID,
			"token":            oidcToken,
		}},
	}
	if err := e.c.GraphQL().MakeRequest(ctx, req, &graphql.Response{Data: &data}); err != nil {
		return Token{}, err
	}
	p := data.ServiceAccountCreateToken
	if len(p.Problems) > 0 {
		msgs := make([]string, len(p.Problems))
		for i, pr := range p.Problems {
			msgs[i] = pr.Message
		}
		return Token{}, &api.Error{Kind: api.KindBadRequest, Op: op, Message: strings.Join(msgs, "; "), Code: p.Problems[0].Type}
	}
	if p.Token == nil || *p.Token == "" {
		return Token{}, &api.Error{Kind: api.KindUnknown, Op: op, Message: "the server answered without a token"}
	}
	tok := Token{Value: *p.Token}
	if p.ExpiresIn != nil && *p.ExpiresIn > 0 {
		tok.ExpiresIn = time.Duration(*p.ExpiresIn) * time.Second
	}
	return tok, nil
}

func (e *apiExchanger) ClientCredentialsToken(ctx context.Context, clientID, clientSecret string) (Token, error) {
	const op = "get service account token with client credentials"
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {clientID},
		"client_secret": {clientSecret},
	}
	body := form.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.c.Endpoint()+"/v1/serviceaccounts/token", strings.NewReader(body))
	if err != nil {
		return Token{}, &api.Error{Kind: api.KindBadRequest, Op: op, Message: err.Error()}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := e.c.HTTPClient().Do(req)
	if err != nil {
		// The transport's errors name the URL, never the form body.
		return Token{}, api.WithOp(err, op)
	}
	if err := api.CheckResponse(op, resp); err != nil {
		return Token{}, err
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Token{}, api.WithOp(err, op)
	}
	if err := json.Unmarshal(b, &out); err != nil || out.AccessToken == "" {
		return Token{}, &api.Error{Kind: api.KindUnknown, Op: op, Message: fmt.Sprintf("the server's answer holds no access token (status %s)", resp.Status)}
	}
	tok := Token{Value: out.AccessToken}
	if out.ExpiresIn > 0 {
		tok.ExpiresIn = time.Duration(out.ExpiresIn) * time.Second
	}
	return tok, nil
}
