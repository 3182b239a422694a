// Package schema holds the GraphQL schema subset shared by the CLI's generated
// bindings and the sandbox server, so a query one accepts is a query the other
// could send.
package schema

import _ "embed"

// SDL is the schema subset in GraphQL schema definition language.
//
//go:embed schema.graphql
var SDL string
