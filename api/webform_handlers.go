package api

import (
	"bytes"
	"encoding/json"
	"sort"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

// mountWebForms registers the admin API of web forms, when the hub
// serves them.
func (s *Server) mountWebForms(v1 fiber.Router) {
	if s.deps.WebForms == nil {
		return
	}
	v1.Get("/webforms", area(core.AreaWebForms), s.listWebForms)
	v1.Post("/webforms", area(core.AreaWebForms), jsonBody, s.putWebForm)
	v1.Get("/webforms/:slug", area(core.AreaWebForms), s.getWebForm)
	v1.Put("/webforms/:slug", area(core.AreaWebForms), jsonBody, s.putWebForm)
	v1.Delete("/webforms/:slug", area(core.AreaWebForms), s.deleteWebForm)
}

func (s *Server) configForm(slug string) *core.WebForm {
	if s.deps.ConfigForms == nil {
		return nil
	}
	for _, f := range s.deps.ConfigForms() {
		if f.Slug == slug {
			return &f
		}
	}
	return nil
}

// redact hides a form's API key (it is write-only).
func redact(f core.WebForm) core.WebForm {
	f.APIKey = ""
	if f.Fields == nil {
		f.Fields = map[string]string{}
	}
	if f.Defaults == nil {
		f.Defaults = map[string]string{}
	}
	if f.Hidden == nil {
		f.Hidden = map[string]string{}
	}
	for _, l := range []*[]string{&f.Required, &f.RoundRobin, &f.AllowedOrigins, &f.FrameAncestors} {
		if *l == nil {
			*l = []string{}
		}
	}
	return f
}

func (s *Server) listWebForms(c *fiber.Ctx) error {
	forms, err := s.deps.WebForms.WebForms(c.UserContext())
	if err != nil {
		return err
	}
	if s.deps.ConfigForms != nil {
		forms = append(forms, s.deps.ConfigForms()...)
	}
	sort.Slice(forms, func(i, j int) bool { return forms[i].Slug < forms[j].Slug })
	out := make([]core.WebForm, len(forms))
	for i, f := range forms {
		out[i] = redact(f)
	}
	return c.JSON(fiber.Map{"items": out})
}

func (s *Server) getWebForm(c *fiber.Ctx) error {
	if f := s.configForm(c.Params("slug")); f != nil {
		return c.JSON(redact(*f))
	}
	f, err := s.deps.WebForms.WebForm(c.UserContext(), c.Params("slug"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, etag(f.Version))
	return c.JSON(redact(*f))
}

// putWebForm creates (POST) or replaces (PUT, If-Match optional) a form.
// An api_key left out of a replacement keeps the stored one.
func (s *Server) putWebForm(c *fiber.Ctx) error {
	p, err := core.DecodePatch(c.Body())
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(c.Body()))
	dec.DisallowUnknownFields()
	var f core.WebForm
	if err := dec.Decode(&f); err != nil {
		return &core.Error{Code: core.EINVALID, Message: "the body is not a web form",
			Fields: []core.FieldError{{Field: "", Code: "invalid", Message: err.Error()}}}
	}
	creating := c.Method() == fiber.MethodPost
	if !creating {
		if f.Slug != "" && f.Slug != c.Params("slug") {
			return core.Invalid([]core.FieldError{{Field: "slug", Code: "immutable", Message: "must match the URL"}})
		}
		f.Slug = c.Params("slug")
	}
	if s.configForm(f.Slug) != nil {
		return core.Errorf(core.ECONFLICT, "web form %q is defined in the config file", f.Slug)
	}
	var version int64
	if !creating {
		if version, err = s.ifMatch(c); err != nil {
			return err
		}
		old, err := s.deps.WebForms.WebForm(c.UserContext(), f.Slug)
		if err != nil {
			return err
		}
		if _, given := p["api_key"]; !given {
			f.APIKey = old.APIKey
		}
		if version == 0 {
			version = old.Version
		}
	}
	saved, err := s.deps.WebForms.PutWebForm(c.UserContext(), f, version)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, etag(saved.Version))
	if creating {
		c.Location("/api/v1/webforms/" + saved.Slug)
		c.Status(fiber.StatusCreated)
	}
	return c.JSON(redact(*saved))
}

func (s *Server) deleteWebForm(c *fiber.Ctx) error {
	if s.configForm(c.Params("slug")) != nil {
		return core.Errorf(core.ECONFLICT, "web form %q is defined in the config file", c.Params("slug"))
	}
	v, err := s.ifMatch(c)
	if err != nil {
		return err
	}
	if err := s.deps.WebForms.DeleteWebForm(c.UserContext(), c.Params("slug"), v); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
