package b24sim

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// benchServer starts the demo portal plus 60 leads on a real loopback
// listener with limits off.
func benchServer(b *testing.B) (*Server, *httptest.Server, *http.Client) {
	b.Helper()
	sim, err := New(Options{WebhookUserID: 1, WebhookCode: testCode})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	b.Cleanup(func() {
		srv.Close()
		_ = sim.Close()
	})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for i := 0; i < 60; i++ {
		res, err := client.Post(srv.URL+"/rest/1/SECRET/crm.lead.add", "application/json",
			strings.NewReader(`{"fields":{"TITLE":"bench","PHONE":[{"VALUE":"+79990000000","VALUE_TYPE":"WORK"}]}}`))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
	}
	return sim, srv, client
}

func benchPost(b *testing.B, client *http.Client, url, body string) {
	b.SetParallelism(4) // 8 concurrent clients on 2 cores
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := client.Post(url, "application/json", strings.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
			if res.StatusCode != 200 {
				b.Errorf("status %d", res.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkLeadList measures crm.lead.list (a full 50-row page) over HTTP.
func BenchmarkLeadList(b *testing.B) {
	_, srv, client := benchServer(b)
	b.ResetTimer()
	benchPost(b, client, srv.URL+"/rest/1/SECRET/crm.lead.list", `{"select":["ID","TITLE","STATUS_ID","ASSIGNED_BY_ID","PHONE"]}`)
}

// BenchmarkBatch measures a 5-command batch (findbycomm + references) over HTTP.
func BenchmarkBatch(b *testing.B) {
	_, srv, client := benchServer(b)
	b.ResetTimer()
	benchPost(b, client, srv.URL+"/rest/1/SECRET/batch", `{"halt":0,"cmd":{
		"find":"crm.duplicate.findbycomm?type=PHONE&values[]=89990000000",
		"lead":"crm.lead.get?id=$result[find][LEAD][0]",
		"upd":"crm.lead.update?id=$result[lead][ID]&fields[COMMENTS]=bench",
		"mode":"crm.settings.mode.get",
		"user":"user.get?FILTER[UF_PHONE_INNER]=102"}}`)
}
