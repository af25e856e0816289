package siptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// KamailioTLS is a Kamailio that also listens for SIP over TLS, with a
// certificate for 127.0.0.1 signed by a CA the test made.
type KamailioTLS struct {
	*Kamailio
	tlsPort int
	// CAFile is the PEM of the CA that signed Kamailio's certificate.
	CAFile string
}

// TLSAddr is the TLS listener's host:port.
func (k *KamailioTLS) TLSAddr() string { return "127.0.0.1:" + strconv.Itoa(k.tlsPort) }

// StartKamailioTLS starts Kamailio with users on UDP/TCP (Addr) and TLS
// (TLSAddr). It needs the Debian package kamailio-tls-modules.
func StartKamailioTLS(t testing.TB, users map[string]string) *KamailioTLS {
	t.Helper()
	requireModule(t, "tls.so", "kamailio-tls-modules")
	return firstStart(t, func() *KamailioTLS {
		kt := &KamailioTLS{tlsPort: Port(t)}
		kt.Kamailio = newKamailio(t, users, kt.enableTLS)
		return kt
	})
}

// enableTLS is newKamailio's edit that adds the TLS listener, with a
// certificate for 127.0.0.1 signed by a CA made for the test.
func (kt *KamailioTLS) enableTLS(k *Kamailio, cfg string) string {
	t := k.t
	t.Helper()
	dir := k.dir
	kt.CAFile = writeCertificates(t, dir)
	tlsCfg := "[server:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\n" +
		"private_key = " + filepath.Join(dir, "server.key") + "\ncertificate = " + filepath.Join(dir, "server.pem") + "\n\n" +
		"[client:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tls.cfg"), []byte(tlsCfg), 0o644))
	port := strconv.Itoa(kt.tlsPort)
	listen := "listen=tcp:127.0.0.1:" + strconv.Itoa(k.port) + "\n"
	require.Contains(t, cfg, listen)
	cfg = strings.Replace(cfg, listen, listen+"listen=tls:127.0.0.1:"+port+"\nenable_tls=yes\nalias=\"127.0.0.1:"+port+"\"\n", 1)
	modules := "loadmodule \"htable.so\"\n"
	require.Contains(t, cfg, modules)
	return strings.Replace(cfg, modules, modules+"loadmodule \"tls.so\"\nmodparam(\"tls\", \"config\", \""+filepath.Join(dir, "tls.cfg")+"\")\n", 1)
}

// requireModule skips the test when Kamailio's module file is missing, or
// fails it when OMNIPHONE_REQUIRE_PEERS=1.
func requireModule(t testing.TB, file, debPackage string) {
	t.Helper()
	module := "/usr/lib/x86_64-linux-gnu/kamailio/modules/" + file // the template's mpath
	if _, err := os.Stat(module); err != nil {
		if os.Getenv("OMNIPHONE_REQUIRE_PEERS") == "1" {
			t.Fatalf("%s not found: install the Debian package %s", module, debPackage)
		}
		t.Skipf("%s not found (Debian package %s); set OMNIPHONE_REQUIRE_PEERS=1 to make this fatal", module, debPackage)
	}
}

// writeCertificates makes a CA and a server certificate for 127.0.0.1 in
// dir (server.pem, server.key) and returns the CA's PEM file.
func writeCertificates(t testing.TB, dir string) string {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Omniphone test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	caCert, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	srv := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, srv, caCert, &key.PublicKey, caKey)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	write := func(name, typ string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600))
		return p
	}
	write("server.pem", "CERTIFICATE", der)
	write("server.key", "EC PRIVATE KEY", keyDER)
	return write("ca.pem", "CERTIFICATE", caDER)
}
