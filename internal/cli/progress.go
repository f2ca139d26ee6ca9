package cli

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// progressBar redraws one status line on stderr: files, bytes and events/s.
type progressBar struct {
	env  *Env
	s    *scanner
	done chan struct{}
	wg   sync.WaitGroup
}

const progressEvery = 250 * time.Millisecond

func startProgress(env *Env, s *scanner) *progressBar {
	p := &progressBar{env: env, s: s, done: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		p.draw()
		for {
			select {
			case <-t.C:
				p.draw()
			case <-p.done:
				// Clear the line so the summary starts clean.
				fmt.Fprint(env.Stderr, "\r\033[K")
				return
			}
		}
	}()
	return p
}

func (p *progressBar) stop() {
	close(p.done)
	p.wg.Wait()
}

func (p *progressBar) draw() {
	s := p.s
	elapsed := p.env.Now().Sub(s.start).Seconds()
	events := s.events.Load()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(events) / elapsed
	}
	read := s.bytesRead.Load()
	bar := ""
	if s.totalBytes > 0 {
		const width = 24
		frac := min(float64(read)/float64(s.totalBytes), 1)
		n := int(frac * width)
		bar = "[" + strings.Repeat("=", n) + strings.Repeat(" ", width-n) + "] "
	}
	s.errMu.Lock()
	defer s.errMu.Unlock()
	fmt.Fprintf(p.env.Stderr, "\r\033[K%sfiles %d/%d  %s/%s  %d events  %.0f events/s",
		bar, s.filesDone.Load(), s.files, humanBytes(read), humanBytes(s.totalBytes), events, rate)
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
