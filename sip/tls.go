package sip

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"time"

	gosip "github.com/emiago/sipgo/sip"
)

// SIP over TLS (RFC 3261 §26.2.1, RFC 5630): requests to the registrar
// and proxy go over TLS connections whose certificate is verified against
// the system's roots or the account's CA file; the phone also listens for
// TLS (the registrar reaches our Contact there) with a certificate it makes
// for itself, which proxies do not verify for a client (RFC 5922 §7.4
// leaves it to the server's policy).

// defaultPort is the SIP port of a transport (RFC 3261 §19.1.2; RFC 7118
// §5: 80 for ws and 443 for wss, the HTTP(S) ports).
func defaultPort(t Transport) int { return gosip.DefaultPort(string(t)) }

// overTLS reports whether the transport runs over TLS, whose certificate
// is verified (tls, wss).
func (t Transport) overTLS() bool { return t == TransportTLS || t == TransportWSS }

// tlsClientConfig verifies the PBX's certificate: against the account's CA
// file when set (only those CAs), else the system's roots.
func tlsClientConfig(a Account) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if a.CAFile == "" {
		return conf, nil
	}
	pem, err := os.ReadFile(a.CAFile)
	if err != nil {
		return nil, fmt.Errorf("CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificate", a.CAFile)
	}
	conf.RootCAs = pool
	return conf, nil
}

// tlsServerConfig is our listener's: a self-signed certificate for host,
// made at start.
func tlsServerConfig(host string) (*tls.Config, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("TLS key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, fmt.Errorf("TLS serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: host},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	if ip := net.ParseIP(host); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.DNSNames = []string{host}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate: %w", err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, nil
}

// ErrTLSUntrusted means the PBX's TLS certificate did not verify.
var ErrTLSUntrusted = errors.New("the PBX's TLS certificate is not trusted")

// explainTLS turns a failed certificate check into words a person can act
// on (baresip once reported it as "Network is unreachable"); other errors
// pass unchanged.
func explainTLS(err error, a Account) error {
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	hint := "set the account's CA file to the certificate of the CA that signed it"
	if a.CAFile != "" {
		hint = "it is not signed by a CA in " + a.CAFile
	}
	switch {
	case errors.As(err, &host):
		return fmt.Errorf("%w: it is for %s, not %s (%w)", ErrTLSUntrusted, certNames(host.Certificate), host.Host, err)
	case errors.As(err, &invalid):
		return fmt.Errorf("%w: %s (%w)", ErrTLSUntrusted, invalidReason(invalid), err)
	case errors.As(err, &unknown), errors.As(err, &verify):
		return fmt.Errorf("%w: %s (%w)", ErrTLSUntrusted, hint, err)
	}
	return err
}

func certNames(c *x509.Certificate) string {
	if c == nil {
		return "another host"
	}
	var names []string
	names = append(names, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return c.Subject.CommonName
	}
	return fmt.Sprint(names)
}

func invalidReason(e x509.CertificateInvalidError) string {
	if e.Reason == x509.Expired {
		return "it has expired or is not valid yet — check the PBX's certificate and this computer's clock"
	}
	return "it is not valid for a SIP server"
}
