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

	"github.com/tharsis-cli/tharsis/internal/api"
	"github.com/tharsis-cli/tharsis/internal/api/gql"
)

// NewAPIExchanger returns an Exchanger that talks to the API through c,
// which must be unauthenticated (api.Config.TokenSource nil): the exchange
// is how a token is obtained in the first place.
func NewAPIExchanger(c *api.Client) Exchanger { return &apiExchanger{c: c} }

type apiExchanger struct{ c *api.Client }

func (e *apiExchanger) CreateToken(ctx context.Context, saID, oidcToken string) (Token, error) {
	const op = "create service account token"
	resp, err := gql.ServiceAccountCreateToken(ctx, e.c.GraphQL(), gql.ServiceAccountCreateTokenInput{
		ServiceAccountId: &saID,
		Token:            oidcToken,
	})
	if err != nil {
		return Token{}, err
	}
	p := resp.ServiceAccountCreateToken
	if err := api.ProblemsOf(op, p.Problems); err != nil {
		return Token{}, err
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
