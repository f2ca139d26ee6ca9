package awstest

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"sync"
)

// Account serves the Account Management API's ListRegions, which is how a
// poller learns the regions an account has enabled. It speaks the service's
// REST-JSON protocol (POST /listRegions, a JSON body) as the AWS SDK for Go
// v2 sends it, and is faithful in what a caller depends on:
//   - RegionOptStatusContains filters by status (ENABLED, ENABLING,
//     DISABLING, DISABLED, ENABLED_BY_DEFAULT); none lists every region;
//   - MaxResults is 1 to 50 (default 20); NextToken pages through the regions
//     in name order (an unknown token is a ValidationException).
type Account struct {
	mu sync.Mutex
	// Regions maps a region code to its opt-in status.
	Regions map[string]string
}

type listRegionsInput struct {
	MaxResults              *int     `json:"MaxResults"`
	NextToken               *string  `json:"NextToken"`
	RegionOptStatusContains []string `json:"RegionOptStatusContains"`
}

type region struct {
	RegionName      string `json:"RegionName"`
	RegionOptStatus string `json:"RegionOptStatus"`
}

func (a *Account) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/listRegions" {
		accountError(w, http.StatusNotFound, "ResourceNotFoundException", "unknown operation "+r.Method+" "+r.URL.Path)
		return
	}
	var in listRegionsInput
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		accountError(w, http.StatusBadRequest, "ValidationException", "invalid request body")
		return
	}
	max := 20
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 50 {
			accountError(w, http.StatusBadRequest, "ValidationException", "MaxResults must be between 1 and 50")
			return
		}
		max = *in.MaxResults
	}
	want := map[string]bool{}
	for _, s := range in.RegionOptStatusContains {
		want[s] = true
	}
	a.mu.Lock()
	var all []region
	for name, status := range a.Regions {
		if len(want) == 0 || want[status] {
			all = append(all, region{name, status})
		}
	}
	a.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return all[i].RegionName < all[j].RegionName })
	start := 0
	if in.NextToken != nil {
		n, err := strconv.Atoi(*in.NextToken)
		if err != nil || n < 0 || n > len(all) {
			accountError(w, http.StatusBadRequest, "ValidationException", "invalid NextToken")
			return
		}
		start = n
	}
	end := min(start+max, len(all))
	out := map[string]any{"Regions": all[start:end]}
	if end < len(all) {
		out["NextToken"] = strconv.Itoa(end)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

func accountError(w http.ResponseWriter, code int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", typ)
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"message": msg})
}
