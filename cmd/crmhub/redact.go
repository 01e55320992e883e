package main

import (
	"net/url"
	"reflect"
	"strings"
)

// redactedValue replaces a secret in printed configuration.
const redactedValue = "REDACTED"

// secretKey reports whether a config key (the last part of its path) holds
// a secret by its name: a password, secret, token, salt, any key (API,
// private, an object store's access key), credentials. A file's path (…_file), a variable's name (…_env) or a
// field's name (…_name) is not one.
func secretKey(name string) bool {
	name = strings.ToLower(name)
	for _, not := range []string{"_file", "_env", "_name", "_url"} {
		if strings.HasSuffix(name, not) {
			return false
		}
	}
	for _, s := range []string{"password", "passwd", "secret", "token", "salt", "api_key", "apikey", "private_key", "credential"} {
		if strings.Contains(name, s) {
			return true
		}
	}
	return name == "key" || strings.HasSuffix(name, "_key") // an object store's access_key too
}

// urlKey reports whether a config key holds an address that may carry
// credentials (a URL or DSN).
func urlKey(name string) bool {
	name = strings.ToLower(name)
	return name == "url" || name == "dsn" || strings.HasSuffix(name, "_url") || strings.HasSuffix(name, "_dsn")
}

// redactURL drops the password and the secret query parameters of an
// address; one that does not parse is replaced whole.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return redactedValue
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), redactedValue)
		}
	}
	if q := u.Query(); len(q) > 0 {
		changed := false
		for k := range q {
			if secretKey(k) || strings.EqualFold(k, "key") || strings.EqualFold(k, "sig") {
				q[k], changed = []string{redactedValue}, true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	return u.String()
}

// redact replaces, in v and everything it holds, the non-empty strings
// whose key names a secret, and the credentials in addresses. Slices, maps
// and pointers are copied first: the value redacted from is unchanged.
func redact(v reflect.Value, name string) {
	switch v.Kind() {
	case reflect.String:
		switch s := v.String(); {
		case s == "":
		case secretKey(name):
			v.SetString(redactedValue)
		case urlKey(name):
			v.SetString(redactURL(s))
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			key := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if !f.IsExported() || key == "-" {
				continue
			}
			if key == "" {
				key = strings.ToLower(f.Name)
			}
			redact(v.Field(i), key)
		}
	case reflect.Slice:
		if v.IsNil() {
			return
		}
		cp := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(cp, v)
		for i := range cp.Len() {
			redact(cp.Index(i), name)
		}
		v.Set(cp)
	case reflect.Map:
		if v.IsNil() {
			return
		}
		cp := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(it.Value())
			key := name
			if it.Key().Kind() == reflect.String {
				key = it.Key().String() // a map's keys name its values
			}
			redact(e, key)
			cp.SetMapIndex(it.Key(), e)
		}
		v.Set(cp)
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		cp := reflect.New(v.Type().Elem())
		cp.Elem().Set(v.Elem())
		redact(cp.Elem(), name)
		v.Set(cp)
	}
}
