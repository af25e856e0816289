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
	// noAckWait is how long an answered call waits for the caller's ACK
	// before it ends with a BYE (RFC 3261 §13.3.1.4: 64*T1; tests shorten it).
	noAckWait time.Duration

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
	// draining is set when the shutdown starts waiting for p.wg: no call
	// goroutine is counted in after that (enterCall).
	draining bool

	// localIP finds the address to put in Contact, Via and SDP when we
	// listen on 0.0.0.0; ifAddrs lists the interface addresses the network
	// watch compares. Both are the machine's (move.go) except in tests.
	localIP func() (net.IP, error)
	ifAddrs func() (string, error)
	// builtOn is the interface list when the stack was built.
	builtOn   string
	gateStats gateStats

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
		ifAddrs:    interfaceAddrs,
		noAckWait:  64 * gosip.T1,
	}
	p.localIP = p.machineIP
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

// build creates the sipgo/diago stack for the address contactHost gives
// now. It is called by New and, with p.mu held, by rebuild (move.go).
func (p *Phone) build() error {
	cfg := p.cfg
	acc := cfg.Account
	domainHost, _, _ := splitHostPort(acc.Domain)

	p.gate = newGate(cfg.Hardening, &p.gateStats)
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

	p.builtOn, _ = p.ifAddrs()
	contactHost := p.contactHost()
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
	// diago keeps the RTP port range in package globals, and the
	// answerer's codec choice: ours is the account's order (Account.Codecs),
	// not the offerer's, so a PCMU-first account answers PCMU to an offer of
	// "opus PCMU" (issue 10). Written only when they differ: a stack rebuilt
	// while another phone in the process has a call must not race its reads.
	if media.RTPPortStart != cfg.RTPPortMin || media.RTPPortEnd != cfg.RTPPortMax {
		media.RTPPortStart, media.RTPPortEnd = cfg.RTPPortMin, cfg.RTPPortMax
	}
	if media.SDPCodecPreferLocalOrder != 1 {
		media.SDPCodecPreferLocalOrder = 1
	}

	// We listen on the Contact address itself, also when the settings say
	// "any" (0.0.0.0): sipgo keys the UDP listener by its local address,
	// and a wildcard socket ("[::]:port") is not the connection our
	// requests from the Contact address look for, so every REGISTER would
	// try to bind the port again ("address already in use"); diago adds
	// ";transport=" to the dialog Contact only when it names the bind
	// host; and media bind there too. The stack follows the machine's
	// address when it changes (move.go).
	listenTransport := diago.Transport{Transport: string(acc.Transport), BindHost: contactHost, BindPort: cfg.BindPort,
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

	reg := newRegistration(p) // one Call-ID for every REGISTER of this run (RFC 3261 §10.2)
	p.reg.Store(reg)
	afterMove := false
	for {
		moved, err := p.serve(ctx, reg)
		if err == nil && moved {
			err, afterMove = p.rebuild(), true
		}
		if err != nil && afterMove {
			// The stack rebuilt for a new address cannot listen (its port
			// was taken meanwhile): the phone is out of service, say why.
			err = fmt.Errorf("after the network address changed: %w", err)
			p.setRegState(RegEvent{State: RegFailed, Err: err})
		}
		if err != nil || !moved {
			return err
		}
	}
}

// serve runs one SIP stack: listens, registers and keeps the registration
// fresh until ctx ends (then it hangs up calls, removes our binding and
// returns false) or the machine's address moved away from our Contact
// while no call was up (then it removes the old binding and returns true:
// Run rebuilds the stack for the new address).
func (p *Phone) serve(ctx context.Context, reg *registration) (moved bool, err error) {
	// diago closes its listeners when the serve context ends, and on UDP
	// and TCP our requests leave through them: if the listeners followed
	// ctx, the BYEs and the unREGISTER sent during shutdown would fail with
	// "use of closed network connection" and the registrar would keep a
	// dead binding until it expired. So they outlive ctx until shutdown
	// has finished.
	p.gate.resolve(ctx, p.cfg.Account, p.cfg.Account.Transport)
	listenCtx, stopListening := context.WithCancel(context.WithoutCancel(ctx))
	defer stopListening()
	if err := p.listen(ctx, listenCtx); err != nil {
		return false, err
	}
	p.log.Info("sip listening", "addr", p.LocalAddr(), "transport", p.cfg.Account.Transport)

	stackCtx, move := context.WithCancel(ctx)
	defer move()
	var helpers sync.WaitGroup
	helpers.Go(func() { reg.keepAlive(stackCtx) })
	watch := newNetWatch(p.cfg.Hardening.NetworkPoll, func(reason string) {
		// A moved address gets a new stack, not a REGISTER of the old
		// Contact racing the removal of its binding.
		if p.moveWhenIdle(stackCtx) {
			p.log.Info("moving to the new address", "reason", reason)
			moved = true
			move()
			return
		}
		p.log.Info("registering again", "reason", reason)
		p.Reregister()
	})
	watch.addrs = p.ifAddrs
	p.mu.Lock()
	watch.since = p.builtOn
	p.mu.Unlock()
	helpers.Go(func() { watch.run(stackCtx) })
	reg.loop(stackCtx)
	helpers.Wait()

	if moved && ctx.Err() == nil {
		reg.removeOldBinding()
		return true, nil
	}
	// Shutdown: calls first (their BYEs need the transport), then our
	// binding. Incoming calls are waited for too (enterCall): an answered
	// call whose ACK has not come yet sends its BYE after the ACK (at most
	// closeAckWait later, call_in.go), so the stack must still be there; it
	// used to be closed under it, leaving the caller in a silent call.
	p.mu.Lock()
	p.draining = true
	p.mu.Unlock()
	p.hangupAll()
	p.wg.Wait()
	reg.unregister()
	return false, nil
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

// LocalAddr returns the host:port the phone listens on (its Contact
// address), which changes when the machine's address does (move.go).
func (p *Phone) LocalAddr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.laddr
}

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

// enterCall returns Run's context, as context does, and counts the calling
// goroutine in p.wg (it leaves with p.wg.Done) so that the shutdown waits
// for it. Counting under p.mu, and not once draining, keeps every Add
// before serve's Wait.
func (p *Phone) enterCall() (context.Context, error) {
	ctx, err := p.context()
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.draining {
		return nil, ErrNotRunning
	}
	p.wg.Add(1)
	return ctx, nil
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
