// Package api is the client for one Tharsis API endpoint.
//
// A Client (see New) owns the HTTP transport every call shares: TLS settings
// (skip-verify, extra CA bundle), proxies from the environment, the
// User-Agent, a bearer token fetched from a TokenSource on every attempt, and
// retries with go-retryablehttp. Queries and other idempotent requests are
// retried on connection errors, 429 and 5xx (but 501); a mutation is retried
// only when the request provably never reached the server, so a run is never
// created twice.
//
// GraphQL goes through the genqlient client returned by Client.GraphQL;
// subscriptions through NewSubscriptionClient, which speaks the legacy
// graphql-ws protocol the server implements; configuration and module uploads
// through UploadConfigurationVersion and UploadModuleVersion, which stream
// from a seekable body.
//
// Every failure is an *Error with a Kind (for exit codes), the operation,
// the server's message and a hint for the user. Mutation payload problems are
// turned into errors with ProblemsError or ProblemsOf. IDs given by users
// (paths, TRNs or GIDs) are converted with NormalizeID before they reach an
// "…Id" argument.
package api
