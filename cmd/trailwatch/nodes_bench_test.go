package main

import (
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/store/postgres/pgtest"
)

// BenchmarkNodes measures events/s through 1, 2 and 3 `trailwatch serve`
// processes on one PostgreSQL database: each iteration POSTs a fixed
// number of root sign-ins in batches spread over the nodes, and ends when
// the loopback webhook has taken every alert (one per event). Run with
//
//	go test ./cmd/trailwatch -run '^$' -bench Nodes -benchtime 1x
//
// Every process (nodes, PostgreSQL, this benchmark and its receiver)
// shares the machine's CPUs.
func BenchmarkNodes(b *testing.B) {
	bin := buildBinary(b)
	for _, nodes := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("nodes=%d", nodes), func(b *testing.B) { benchNodes(b, bin, nodes) })
	}
}

func benchNodes(b *testing.B, bin string, count int) {
	const events, batch = 3000, 100
	pg := pgtest.Start(b)
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
		want int
		all  = make(chan struct{}, 1)
	)
	hook := startHook(b, func(w http.ResponseWriter, r *http.Request, _ int) {
		key := r.Header.Get("Idempotency-Key")
		mu.Lock()
		defer mu.Unlock()
		seen[key] = true
		if len(seen) == want {
			select {
			case all <- struct{}{}:
			default:
			}
		}
	})
	nodes := make([]*node, count)
	for i := range nodes {
		nodes[i] = startNode(b, bin, pg, nodeConfig(b, fmt.Sprintf("%s/%d", hook, i)), "--log-level", "warn")
	}
	b.ResetTimer()
	start := time.Now()
	busy0, total0 := cpuTicks()
	var nodeCPU0 float64
	for _, n := range nodes {
		nodeCPU0 += processCPU(n.cmd.Process.Pid)
	}
	for it := range b.N {
		mu.Lock()
		want += events
		mu.Unlock()
		var wg sync.WaitGroup
		for k := 0; k*batch < events; k++ {
			records := make([]string, 0, batch)
			for i := k * batch; i < (k+1)*batch; i++ {
				records = append(records, rootLogin(fmt.Sprintf("bench-%d-%d-%d", count, it, i)))
			}
			wg.Go(func() {
				if err := nodes[k%count].postEvents(records); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
		if b.Failed() {
			b.FailNow()
		}
		select {
		case <-all:
		case <-time.After(5 * time.Minute):
			mu.Lock()
			n := len(seen)
			mu.Unlock()
			b.Fatalf("%d of %d alerts delivered", n, want)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	busy1, total1 := cpuTicks()
	var nodeCPU float64
	for _, n := range nodes {
		nodeCPU += processCPU(n.cmd.Process.Pid)
	}
	b.ReportMetric(float64(events*b.N)/elapsed.Seconds(), "events/s")
	if total1 > total0 {
		// How busy the machine's CPUs were, and the nodes' share of the
		// whole machine's (the rest: PostgreSQL, this process, others).
		b.ReportMetric(100*float64(busy1-busy0)/float64(total1-total0), "%cpu-busy")
		b.ReportMetric(100*(nodeCPU-nodeCPU0)/(float64(total1-total0)/clockTicks), "%cpu-nodes")
	}
}

const clockTicks = 100 // USER_HZ, the unit of /proc's CPU times

// cpuTicks reads the machine's busy and total CPU time from /proc/stat
// (zero elsewhere).
func cpuTicks() (busy, total uint64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	for i, f := range strings.Fields(line)[1:] {
		v, _ := strconv.ParseUint(f, 10, 64)
		total += v
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return busy, total
}

// processCPU is the user and system CPU seconds of process pid so far.
func processCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / clockTicks
}
