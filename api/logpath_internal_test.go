package api

// SecretLike exposes secretLike to the external tests.
var SecretLike = secretLike
