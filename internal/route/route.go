// Package route decides where a rule's alert goes: which receivers, with
// which body (an EventBridge target's Input, InputPath or InputTransformer)
// and which reminders.
package route

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/trailwatch/trailwatch/internal/config"
	"github.com/trailwatch/trailwatch/internal/event"
	"github.com/trailwatch/trailwatch/internal/rule"
	"github.com/trailwatch/trailwatch/internal/schedule"
	"github.com/trailwatch/trailwatch/internal/store"
	"github.com/trailwatch/trailwatch/internal/transform"
)

// Router is compiled from a Config; it is immutable and safe for concurrent
// use.
type Router struct {
	routes    []*compiled
	receivers map[string]*config.Receiver
}

type compiled struct {
	name   string // the route's name, or routes[i]
	route  *config.Route
	input  *transform.Input // nil: the receiver's default message
	rules  map[string]bool  // nil: any rule
	window *schedule.Window // nil: never muted by time
}

// New compiles the routes of cfg. With no routes, every rule goes to every
// receiver.
func New(cfg *config.Config) (*Router, error) {
	rt := &Router{receivers: make(map[string]*config.Receiver)}
	for _, r := range cfg.Receivers {
		rt.receivers[r.Name] = r
	}
	routes := cfg.Routes
	if len(routes) == 0 && len(cfg.Receivers) > 0 {
		all := &config.Route{Name: "default"}
		for _, r := range cfg.Receivers {
			all.Receivers = append(all.Receivers, r.Name)
		}
		routes = []*config.Route{all}
	}
	var errs []error
	for i, r := range routes {
		name := r.Name
		if name == "" {
			name = fmt.Sprintf("routes[%d]", i)
		}
		c := &compiled{name: name, route: r}
		for _, recv := range r.Receivers {
			if rt.receivers[recv] == nil {
				errs = append(errs, fmt.Errorf("route %s: no receiver %q", name, recv))
			}
		}
		if len(r.Rules) > 0 {
			c.rules = make(map[string]bool, len(r.Rules))
			for _, n := range r.Rules {
				c.rules[n] = true
			}
		}
		if r.MuteWindow != nil {
			w, err := r.MuteWindow.Parse()
			if err != nil {
				errs = append(errs, fmt.Errorf("route %s: mute_window: %w", name, err))
				continue
			}
			c.window = w
		}
		if r.Input != nil || r.InputPath != "" || r.InputTransformer != nil {
			var paths map[string]string
			var tmpl string
			if t := r.InputTransformer; t != nil {
				paths, tmpl = t.InputPathsMap, t.InputTemplate
			}
			in, err := transform.NewInput(r.Input, r.InputPath, paths, tmpl, r.InputTransformer != nil)
			if err != nil {
				errs = append(errs, fmt.Errorf("route %s: %w", name, err))
				continue
			}
			c.input = in
		}
		rt.routes = append(rt.routes, c)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return rt, nil
}

func (c *compiled) selects(r *rule.Rule) bool {
	if c.rules != nil && !c.rules[r.Name] {
		return false
	}
	if len(c.route.Tags) > 0 && !slices.ContainsFunc(c.route.Tags, r.HasTag) {
		return false
	}
	if c.route.MinSeverity != nil && r.Severity < *c.route.MinSeverity {
		return false
	}
	return true
}

// RenderError is a delivery whose body could not be rendered (a template
// that renders invalid JSON): as in EventBridge, it is not delivered, and
// the caller reports it.
type RenderError struct {
	Route, Receiver string
	Err             error
}

func (e *RenderError) Error() string {
	return fmt.Sprintf("route %s to %s: %v", e.Route, e.Receiver, e.Err)
}

func (e *RenderError) Unwrap() error { return e.Err }

// Deliveries returns what to queue for rule r's alert on ev: one delivery
// per (route, receiver) that selects the rule, a receiver reached by two
// routes with the same body only once. Bodies that fail to render are
// returned as errors beside the deliveries that did.
// Routes named in muted (by a schedule) send nothing. A route inside its
// mute window defers its deliveries to the window's end (NotBefore) and,
// those with the receiver's default message, into one digest per route,
// receiver and window end (Digest, see DigestKey); a body the route fixed
// is sent as it is, one by one.
func (rt *Router) Deliveries(r *rule.Rule, ev *event.Event, now time.Time, muted map[string]bool) ([]store.Delivery, []error) {
	var out []store.Delivery
	var errs []error
	for _, c := range rt.routes {
		if !c.selects(r) || muted[c.route.Name] {
			continue
		}
		// Inside its mute window a route holds its alerts until the window
		// closes, or drops them.
		var notBefore time.Time
		if c.window != nil && c.window.Contains(now) {
			if c.route.MuteWindow.Drop {
				continue
			}
			notBefore = c.window.NextChange(now)
		}
		arn := c.route.RuleARN
		if arn == "" {
			arn = RuleARN(ev, r.Name)
		}
		var body []byte
		if c.input != nil {
			b, err := c.input.Render(ev.JSON, transform.Vars{RuleARN: arn, RuleName: r.Name, IngestionTime: now})
			if err != nil {
				for _, recv := range c.route.Receivers {
					errs = append(errs, &RenderError{Route: c.route.Name, Receiver: recv, Err: err})
				}
				continue
			}
			body = b
		}
		for _, name := range c.route.Receivers {
			every, max := reminders(c.route, r, rt.receivers[name])
			d := store.Delivery{Receiver: name, Body: body, RuleARN: arn, RemindEvery: every, RemindMax: max, NotBefore: notBefore}
			if !notBefore.IsZero() && body == nil {
				d.Digest = DigestKey(c.name, name, notBefore)
			}
			if slices.ContainsFunc(out, func(o store.Delivery) bool {
				return o.Receiver == d.Receiver && string(o.Body) == string(d.Body)
			}) {
				continue
			}
			out = append(out, d)
		}
	}
	return out, errs
}

// DigestKey is the key that groups the deliveries a route's mute window
// defers for one receiver until the window ends at end.
func DigestKey(route, receiver string, end time.Time) string {
	return route + "|" + receiver + "|" + end.UTC().Format(time.RFC3339)
}

// reminders picks a delivery's reminder settings: the route's, else the
// rule's, else the receiver's.
func reminders(rt *config.Route, r *rule.Rule, recv *config.Receiver) (time.Duration, int) {
	switch {
	case rt.RemindEvery != nil:
		max := 0
		if rt.RemindMax != nil {
			max = *rt.RemindMax
		}
		return time.Duration(*rt.RemindEvery), max
	case r.RemindEvery > 0:
		return r.RemindEvery, r.RemindMax
	case recv != nil:
		return time.Duration(recv.RemindEvery), recv.RemindMax
	}
	return 0, 0
}

// RuleARN is the ARN EventBridge would give a rule named name on the
// default bus of the event's account and region.
func RuleARN(ev *event.Event, name string) string {
	region, account := ev.Region, ev.Account
	if region == "" {
		region = "us-east-1"
	}
	return fmt.Sprintf("arn:aws:events:%s:%s:rule/%s", region, account, name)
}
