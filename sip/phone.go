package sip

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"
	gosip "github.com/emiago/sipgo/sip"
)

// Phone is a SIP user agent for one account.
type Phone struct {
	cfg    Config
	log    *slog.Logger
	audio  AudioDevice
	jitter bool
	// noRingback turns off the local ringback tone (WithoutRingback).
	noRingback bool
	// noAutoHold keeps other calls active on Answer and Resume (WithoutAutoHold).
	noAutoHold bool

	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	client  *sipgo.Client
	dg      *diago.Diago
	laddr   string // host:port we listen on
	contact gosip.Uri

	hmu        sync.Mutex
	onReg      func(RegEvent)
	onIncoming func(*Call)
	onCall     func(CallEvent)
	onDTMF     func(DTMFEvent)

	mu       sync.Mutex
	calls    map[string]*Call
	runCtx   context.Context
	cancel   context.CancelFunc
	running  bool
	closed   bool
	regState RegState
	runDone  chan struct{}

	active     atomic.Pointer[Call]
	reregister chan struct{}
	gate       *gate
	elsewhere  answeredElsewhere
	reg        atomic.Pointer[registration] // set while Run runs
	wg         sync.WaitGroup               // call goroutines
}

// New validates cfg and builds a Phone. Nothing is sent or bound until Run.
func New(cfg Config, opts ...Option) (*Phone, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("sip config: %w", err)
	}
	p := &Phone{
		cfg:        cfg,
		log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		audio:      silentDevice{},
		calls:      make(map[string]*Call),
		reregister: make(chan struct{}, 1),
	}
	for _, o := range opts {
		o(p)
	}
	if p.audio == nil {
		p.audio = silentDevice{}
	}
	if cfg.BindPort == 0 {
		if p.cfg.BindPort, err = freePort(cfg.BindHost); err != nil {
			return nil, err
		}
	}
	if err := p.build(); err != nil {
		return nil, err
	}
	return p, nil
}

// build creates the sipgo/diago stack.
func (p *Phone) build() error {
	cfg := p.cfg
	acc := cfg.Account
	domainHost, _, _ := splitHostPort(acc.Domain)

	p.gate = newGate(cfg.Hardening)
	// The read filter first: the transports option copies it.
	tpOpts := []gosip.TransportLayerOption{gosip.WithTransportLayerReadFilter(p.gate.filter)}
	if acc.WSPath != "" {
		tpOpts = append(tpOpts, wsTransports(acc.WSPath))
	}
	uaOpts := []sipgo.UserAgentOption{
		// diago uses the UA name as the user part of our Contact.
		sipgo.WithUserAgent(acc.User),
		sipgo.WithUserAgentHostname(domainHost),
		sipgo.WithUserAgentTransportLayerOptions(tpOpts...),
	}
	if acc.Transport.overTLS() {
		conf, err := tlsClientConfig(acc)
		if err != nil {
			return err
		}
		uaOpts = append(uaOpts, sipgo.WithUserAgenTLSConfig(conf))
	}
	ua, err := sipgo.NewUA(uaOpts...)
	if err != nil {
		return fmt.Errorf("sip user agent: %w", err)
	}
	p.ua = ua

	contactHost := cfg.BindHost
	if ip := net.ParseIP(contactHost); ip.IsUnspecified() {
		resolved, _, err := gosip.ResolveInterfacesIP("ip4", nil)
		if err != nil {
			return fmt.Errorf("resolve local IP: %w", err)
		}
		contactHost = resolved.String()
	}
	p.laddr = net.JoinHostPort(contactHost, strconv.Itoa(cfg.BindPort))
	p.gate.tp, p.gate.laddr = ua.TransportLayer(), p.laddr
	ua.TransportLayer().OnMessage(p.elsewhere.observe)
	p.contact = gosip.Uri{
		Scheme:    "sip",
		User:      acc.User,
		Host:      contactHost,
		Port:      cfg.BindPort,
		UriParams: gosip.NewParams(),
		Headers:   gosip.NewParams(),
	}
	p.contact.UriParams.Add("transport", string(acc.Transport))

	clientOpts := []sipgo.ClientOption{
		sipgo.WithClientNAT(), // rport, RFC 3581
		sipgo.WithClientLogger(p.log),
		sipgo.WithClientHostname(contactHost),
		sipgo.WithClientPort(cfg.BindPort),
	}
	req := &routeFixRequester{tx: ua.TransactionLayer(), tp: ua.TransportLayer()}
	if acc.Transport == TransportUDP {
		clientOpts = append(clientOpts, sipgo.WithClientConnectionAddr(p.laddr))
		req.laddr = gosip.Addr{IP: net.ParseIP(contactHost), Port: cfg.BindPort}
	}
	client, err := sipgo.NewClient(ua, clientOpts...)
	if err != nil {
		return fmt.Errorf("sip client: %w", err)
	}
	client.TxRequester = req
	p.client = client

	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(p.log))
	if err != nil {
		return fmt.Errorf("sip server: %w", err)
	}
	p.srv = srv

	codecs := mediaCodecs(acc.Codecs)
	// diago keeps the RTP port range in package globals.
	media.RTPPortStart, media.RTPPortEnd = cfg.RTPPortMin, cfg.RTPPortMax
	// And the answerer's codec choice: ours is the account's order
	// (Account.Codecs), not the offerer's, so a PCMU-first account answers
	// PCMU to an offer of "opus PCMU" (issue 10).
	media.SDPCodecPreferLocalOrder = 1

	listenTransport := diago.Transport{Transport: string(acc.Transport), BindHost: cfg.BindHost, BindPort: cfg.BindPort,
		MediaSRTP: acc.SRTP.mediaSRTP()}
	if acc.Transport.overTLS() {
		if listenTransport.TLSConf, err = tlsServerConfig(contactHost); err != nil {
			return err
		}
	}
	srtpOpts, err := p.srtpDiagoOptions(listenTransport)
	if err != nil {
		return err
	}
	p.dg = diago.NewDiago(ua, append([]diago.DiagoOption{
		diago.WithLogger(p.log),
		diago.WithClient(client),
		diago.WithServer(srv),
		diago.WithMediaConfig(diago.MediaConfig{Codecs: codecs}),
		diago.WithTransport(listenTransport),
	}, srtpOpts...)...)
	// Replace diago's INFO handler, which answers 406 to every DTMF INFO
	// (readSIPInfoDTMF is commented out in v0.42.1).
	srv.OnInfo(p.handleInfo)
	// Replace diago's REFER handler (transfer.go handleRefer).
	srv.OnRefer(p.handleRefer)
	return nil
}

// Run listens, registers and keeps the registration fresh until ctx ends or
// Close is called; then it hangs up calls, removes our binding and returns
// nil. It returns an error only if it cannot start.
func (p *Phone) Run(ctx context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	if p.running {
		p.mu.Unlock()
		return errors.New("sip: Run called twice")
	}
	ctx, cancel := context.WithCancel(ctx)
	p.runCtx, p.cancel, p.running = ctx, cancel, true
	p.runDone = make(chan struct{})
	p.mu.Unlock()
	defer close(p.runDone)
	defer cancel()

	// diago closes its listeners when the serve context ends, and on UDP
	// and TCP our requests leave through them: if the listeners followed
	// ctx, the BYEs and the unREGISTER sent during shutdown would fail with
	// "use of closed network connection" and the registrar would keep a
	// dead binding until it expired. So they outlive ctx until shutdown
	// has finished.
	p.gate.resolve(ctx, p.cfg.Account, p.cfg.Account.Transport)
	listenCtx, stopListening := context.WithCancel(context.WithoutCancel(ctx))
	defer stopListening()
	if err := p.dg.ServeBackground(listenCtx, p.serveInvite); err != nil {
		return fmt.Errorf("listen %s/%s: %w", p.cfg.Account.Transport, p.laddr, err)
	}
	if p.cfg.Account.Transport == TransportUDP {
		if err := waitUDPListener(ctx, p.ua.TransportLayer(), p.laddr); err != nil {
			return err
		}
	}
	p.log.Info("sip listening", "addr", p.laddr, "transport", p.cfg.Account.Transport)

	reg := newRegistration(p)
	p.reg.Store(reg)
	var helpers sync.WaitGroup
	helpers.Go(func() { reg.keepAlive(ctx) })
	watch := newNetWatch(p.cfg.Hardening.NetworkPoll, func(reason string) {
		p.log.Info("registering again", "reason", reason)
		p.Reregister()
	})
	helpers.Go(func() { watch.run(ctx) })
	reg.loop(ctx)
	helpers.Wait()

	// Shutdown: calls first (their BYEs need the transport), then our binding.
	p.hangupAll()
	p.wg.Wait()
	reg.unregister()
	return nil
}

// Close stops Run (if running), waits for it and releases the sockets.
func (p *Phone) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	cancel, done := p.cancel, p.runDone
	p.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	return p.ua.Close()
}

// Reregister asks the registration loop to register now, e.g. after the
// password was changed or the network came back.
func (p *Phone) Reregister() {
	select {
	case p.reregister <- struct{}{}:
	default:
	}
}

// RegState returns the current registration state.
func (p *Phone) RegState() RegState {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.regState
}

// LocalAddr returns the host:port the phone listens on.
func (p *Phone) LocalAddr() string { return p.laddr }

// Calls returns the calls that have not ended, oldest first.
func (p *Phone) Calls() []*Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*Call, 0, len(p.calls))
	for _, c := range p.calls {
		out = append(out, c)
	}
	sortCalls(out)
	return out
}

func (p *Phone) setRegState(ev RegEvent) {
	p.mu.Lock()
	p.regState = ev.State
	p.mu.Unlock()
	p.emitReg(ev)
}

// context returns Run's context, or an error when Run has not started or has ended.
func (p *Phone) context() (context.Context, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	if !p.running || p.runCtx.Err() != nil {
		return nil, ErrNotRunning
	}
	return p.runCtx, nil
}

func (p *Phone) addCall(c *Call) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls[c.id] = c
}

func (p *Phone) removeCall(c *Call) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.calls, c.id)
}

func (p *Phone) hangupAll() {
	for _, c := range p.Calls() {
		c.terminate()
	}
}

// detachedTimeout returns a context for one request that must outlive ctx's
// cancellation (e.g. BYE or unREGISTER during shutdown).
func detachedTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), d)
}

// activeCall is the call that owns the audio device: of the answered calls
// not on hold, the one that became active last. It is read for every audio frame.
func (p *Phone) activeCall() *Call { return p.active.Load() }

// updateActive recomputes activeCall after a call changed state.
func (p *Phone) updateActive() {
	p.mu.Lock()
	defer p.mu.Unlock()
	var best *Call
	var bestSince time.Time
	for _, c := range p.calls {
		c.mu.Lock()
		ok, since := c.state == CallActive, c.activeSince
		c.mu.Unlock()
		if ok && (best == nil || since.After(bestSince)) {
			best, bestSince = c, since
		}
	}
	p.active.Store(best)
}

// aorString is the account's address of record, sip:user@domain.
func (p *Phone) aorString() string {
	host, port, _ := splitHostPort(p.cfg.Account.Domain)
	u := gosip.Uri{Scheme: "sip", User: p.cfg.Account.User, Host: host, Port: port}
	return u.String()
}
