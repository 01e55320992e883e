// Package core holds crmhub's domain: entities and their validation, the
// service interfaces that the store implements and the API and connectors
// call, the closed set of error codes, and request-scoped context values.
//
// core depends on the standard library and a few pure, I/O-free libraries
// (UUIDs, phone numbers, decimals); never on a database, a web framework or
// a message broker. Everything else in the module points inward to it.
package core
