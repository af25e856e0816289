package b24

import "sync"

// MethodStats counts one method's requests and failures by error code
// ("transport" for failures below HTTP).
type MethodStats struct {
	Requests int
	Failures map[string]int
}

type stats struct {
	mu sync.Mutex
	m  map[string]*MethodStats
}

func (s *stats) entry(method string) *MethodStats {
	if s.m == nil {
		s.m = map[string]*MethodStats{}
	}
	e, ok := s.m[method]
	if !ok {
		e = &MethodStats{Failures: map[string]int{}}
		s.m[method] = e
	}
	return e
}

func (s *stats) request(method string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entry(method).Requests++
}

func (s *stats) failure(method, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == "" {
		code = "ERROR_CORE"
	}
	s.entry(method).Failures[code]++
}

// Stats returns a copy of the request counts per method, for metrics.
func (c *Client) Stats() map[string]MethodStats {
	c.stats.mu.Lock()
	defer c.stats.mu.Unlock()
	out := make(map[string]MethodStats, len(c.stats.m))
	for k, v := range c.stats.m {
		f := make(map[string]int, len(v.Failures))
		for code, n := range v.Failures {
			f[code] = n
		}
		out[k] = MethodStats{Requests: v.Requests, Failures: f}
	}
	return out
}
