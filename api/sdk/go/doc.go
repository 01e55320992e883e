// Package crmhub is a Go client of the crmhub API.
//
// client.gen.go is generated from api/openapi.json by oapi-codegen
// (`make sdk`; a test fails when it is stale): a method per operation,
// named by its operationId, and a type per schema. This file and
// crmhub.go are the hand-written part: a client that signs its requests
// with a bearer token, and the walk over cursor-paginated lists.
//
//	c, err := crmhub.New("http://127.0.0.1:8080", key)
//	lead, err := c.CreateLeadWithResponse(ctx, &crmhub.CreateLeadParams{IdempotencyKey: &k}, crmhub.LeadCreate{...})
//	for l, err := range crmhub.All(ctx, func(ctx context.Context, cursor string) ([]crmhub.Lead, string, error) {
//		r, err := c.ListLeadsWithResponse(ctx, &crmhub.ListLeadsParams{Cursor: &cursor})
//		if err != nil { return nil, "", err }
//		if r.JSON200 == nil { return nil, "", crmhub.Unexpected(r.HTTPResponse, r.Body) }
//		return r.JSON200.Items, r.JSON200.NextCursor, nil
//	}) { ... }
package crmhub
