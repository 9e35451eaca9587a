/**
 * The cluster's certificates ({@code ferry pki}): a CA ({@link dev.ferry.pki.CertificateAuthority}),
 * host certificates in the directory layout QEMU's {@code tls-creds-x509} reads ({@link
 * dev.ferry.pki.TlsDir}), operator certificates, the checks {@code ferry pki validate} runs ({@link
 * dev.ferry.pki.PkiValidator}), and the JSSE contexts the agent and the CLI make from such a directory
 * ({@link dev.ferry.pki.TlsContexts}). {@link dev.ferry.pki.Identity} says who a verified certificate
 * belongs to: a host (OU=hosts) or an operator (OU=operators), named by its CN.
 *
 * <p>Keys are EC P-256 made by the BouncyCastle provider and written as PKCS#8 with mode 0600 from
 * creation; {@code PemFiles} refuses to read a key that group or others may access. This package
 * depends on nothing else of Ferry; {@code agent} and {@code cli} use it.
 */
package dev.ferry.pki;
