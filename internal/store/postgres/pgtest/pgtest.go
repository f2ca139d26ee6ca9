// Package pgtest gives tests a PostgreSQL database of their own: a fresh
// database on a throwaway server that the test binary starts once on
// 127.0.0.1 (initdb and postgres from /usr/lib/postgresql/*/bin or PATH,
// as the postgres user when run as root), or on the server
// $TRAILWATCH_TEST_POSTGRES_URL names.
//
// A package whose tests use it stops the server after its tests with
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// (without it the server still goes when the test binary exits: it is
// started with a parent-death signal).
package pgtest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names an existing server to use instead of starting one: a
// superuser's URL (each test gets a database of its own, created with a
// unique name and dropped after the test).
const EnvURL = "TRAILWATCH_TEST_POSTGRES_URL"

var (
	once   sync.Once
	shared *server
	errSrv error
	skip   string
)

// Start returns the URL of a fresh, empty database for tb, dropped when tb
// ends. Without PostgreSQL binaries it skips tb (it fails it when $CI is
// set: CI installs them).
func Start(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		once.Do(func() { shared, skip, errSrv = startServer() })
		if skip != "" {
			if os.Getenv("CI") != "" {
				tb.Fatalf("pgtest: %s (CI must install PostgreSQL)", skip)
			}
			tb.Skipf("pgtest: %s", skip)
		}
		if errSrv != nil {
			tb.Fatalf("pgtest: %v", errSrv)
		}
		base = shared.url("postgres")
	}
	name := "tw_" + strings.ToLower(sanitize(tb.Name())) + "_" + randomHex(4)
	if err := admin(base, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	tb.Cleanup(func() {
		if err := admin(base, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			tb.Logf("pgtest: drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("pgtest: %s: %v", EnvURL, err)
	}
	u.Path = "/" + name
	return u.String()
}

// Main runs the tests, then stops the server Start started (if any) and
// exits with the tests' code.
func Main(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.stop()
	}
	os.Exit(code)
}

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	if len(b) > 40 {
		b = b[len(b)-40:]
	}
	return string(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func admin(base, stmt string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, stmt)
	return err
}

// server is a postgres process on a data directory of its own.
type server struct {
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{}
	log  *tail
}

func (s *server) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// stop shuts the server down (fast shutdown) and removes its directory.
func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	os.RemoveAll(s.dir)
}

// binDir finds the directory holding initdb and postgres: the newest
// /usr/lib/postgresql/N/bin, else PATH's.
func binDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	initdb, err := exec.LookPath("initdb")
	if err != nil {
		return "", errors.New("no PostgreSQL server binaries (initdb, postgres) in /usr/lib/postgresql/*/bin or PATH; install Debian's postgresql or set " + EnvURL)
	}
	initdb, _ = filepath.EvalSymlinks(initdb)
	d := filepath.Dir(initdb)
	if !isExec(filepath.Join(d, "postgres")) {
		return "", fmt.Errorf("no postgres beside %s", initdb)
	}
	return d, nil
}

func isExec(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// startServer runs initdb and postgres in a temporary directory. A
// missing installation is a reason to skip (skip), anything else an error.
func startServer() (_ *server, skip string, _ error) {
	bin, err := binDir()
	if err != nil {
		return nil, err.Error(), nil
	}
	// PostgreSQL refuses to run as root: run it as the postgres user, in
	// a directory that user owns.
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, "running as root and there is no postgres user to run the server as", nil
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	dir, err := os.MkdirTemp("", "trailwatch-pgtest-")
	if err != nil {
		return nil, "", err
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, "", err
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync")
	initdb.Dir = dir
	initdb.Env = append(os.Environ(), "LC_ALL=C")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, "", fmt.Errorf("initdb: %v\n%s", err, out)
	}
	// A free port can be taken between our probe and postgres's bind:
	// try a few.
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			return nil, "", err
		}
		s, err := run(bin, dir, data, port, cred)
		if err == nil {
			return s, "", nil
		}
		lastErr = err
	}
	os.RemoveAll(dir)
	return nil, "", lastErr
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// run starts postgres and returns once it accepts connections (it says so
// on its log).
func run(bin, dir, data string, port int, cred *syscall.Credential) (*server, error) {
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data,
		"-c", "listen_addresses=127.0.0.1", "-c", "port="+strconv.Itoa(port),
		"-c", "unix_socket_directories=", "-c", "max_connections=400",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "shared_buffers=64MB", "-c", "lc_messages=C", "-c", "log_min_messages=warning",
		"-c", "log_min_error_statement=panic", "-c", "log_statement=none", "-c", "log_connections=off")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	// The server goes with the test binary, even if it dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT, Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &server{dir: dir, port: port, cmd: cmd, done: make(chan struct{}), log: &tail{}}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			s.log.add(line)
			if !signalled && strings.Contains(line, "ready to accept connections") {
				signalled = true
				close(ready)
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	go func() {
		cmd.Wait()
		close(s.done)
	}()
	select {
	case <-ready:
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("postgres exited before accepting connections:\n%s", s.log)
	case <-time.After(time.Minute):
		s.cmd.Process.Kill()
		<-s.done
		return nil, fmt.Errorf("postgres not ready after a minute:\n%s", s.log)
	}
}

// tail keeps a server's last log lines, for errors.
type tail struct {
	mu    sync.Mutex
	lines []string
}

func (t *tail) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, line)
	if len(t.lines) > 50 {
		t.lines = t.lines[len(t.lines)-50:]
	}
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}
