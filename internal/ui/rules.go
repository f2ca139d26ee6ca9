package ui

import (
	"net/http"
	"slices"
	"sort"

	"github.com/trailwatch/trailwatch/internal/rule"
)

func (s *Server) handleRules(w http.ResponseWriter, r *http.Request) {
	rules := slices.Clone(s.rules)
	sort.SliceStable(rules, func(i, j int) bool { return rules[i].Name < rules[j].Name })
	s.render(w, http.StatusOK, "rules", struct {
		page
		Rules []*rule.Rule
	}{page{Title: "Rules"}, rules})
}
