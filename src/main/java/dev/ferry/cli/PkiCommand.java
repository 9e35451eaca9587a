package dev.ferry.cli;

import dev.ferry.pki.CertificateAuthority;
import dev.ferry.pki.PkiException;
import dev.ferry.pki.PkiValidator;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ferry pki init|issue|client|validate}: the cluster's CA and the certificates of its hosts and operators. */
@Command(name = "pki",
        description = {"Make the cluster's certificate authority and the certificates of its hosts and operators, and "
                + "check a directory of them. Needs no agent. See docs/security.md."},
        mixinStandardHelpOptions = true,
        subcommands = {PkiCommand.Init.class, PkiCommand.Issue.class, PkiCommand.Client.class, PkiCommand.Validate.class})
final class PkiCommand extends CommandGroup {
    private static final String HOST_NAME = "[A-Za-z0-9][A-Za-z0-9.-]*";

    @Command(name = "init", mixinStandardHelpOptions = true,
            description = {"Make a new cluster CA in DIR (created with mode 0700): ca-cert.pem, and ca-key.pem (mode 0600).",
                    "Keep DIR on an operator's machine, not on the hosts; an existing CA is never replaced."})
    static final class Init implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "DIR", description = "where the CA goes")
        Path dir;

        @Option(names = "--name", paramLabel = "NAME", defaultValue = "Ferry cluster CA",
                description = "the CA's common name (default: ${DEFAULT-VALUE})")
        String name;

        @Option(names = "--days", paramLabel = "N", defaultValue = "3650",
                description = "how long the CA is valid (default: ${DEFAULT-VALUE})")
        int days;

        @Override
        public Integer call() {
            CertificateAuthority ca = run(() -> CertificateAuthority.init(dir, name, validity(days), Clock.systemUTC()));
            PrintWriter out = spec.commandLine().getOut();
            out.println("made " + ca + ", valid until " + ca.certificate().getNotAfter().toInstant());
            out.println("next: ferry pki issue HOST --ca " + dir + " --dns NAME --ip ADDR --out DIR");
            out.flush();
            return 0;
        }
    }

    @Command(name = "issue", mixinStandardHelpOptions = true,
            description = {"Issue HOST's certificate (CN=HOST, OU=hosts; serverAuth and clientAuth; SANs for every --dns "
                    + "and --ip) into OUT, laid out as QEMU's tls-creds-x509 reads it and as the agent's 'tls: {dir: OUT}' "
                    + "expects: ca-cert.pem, server-cert.pem, server-key.pem, client-cert.pem, client-key.pem (keys 0600; "
                    + "the server and client files hold the same certificate and key).",
                    "Peers check the name or address they connect to against the SANs: list every name and address in "
                            + "the peers' URLs. Existing files are never overwritten; to rotate, issue into a new directory."})
    static final class Issue implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "HOST", description = "the host's name, as in its agent's 'host' and its peers' 'peers'")
        String host;

        @Option(names = "--ca", required = true, paramLabel = "DIR", description = "the CA's directory ('ferry pki init')")
        Path ca;

        @Option(names = "--dns", paramLabel = "NAME", description = "a DNS name of the host (repeat for more)")
        List<String> dns = new ArrayList<>();

        @Option(names = "--ip", paramLabel = "ADDR", description = "an IP address of the host (repeat for more)")
        List<String> ips = new ArrayList<>();

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "where the files go (created with mode 0700)")
        Path out;

        @Option(names = "--days", paramLabel = "N", defaultValue = "365",
                description = "how long the certificate is valid, at most as long as the CA (default: ${DEFAULT-VALUE})")
        int days;

        @Override
        public Integer call() {
            if (!host.matches(HOST_NAME)) {
                throw new CliFailure(CliFailure.USAGE, "'" + host + "' is not a host name; use letters, digits, '.' and '-'");
            }
            List<InetAddress> addresses = new ArrayList<>();
            for (String ip : ips) {
                addresses.add(address(ip));
            }
            run(() -> {
                CertificateAuthority authority = CertificateAuthority.load(ca, Clock.systemUTC());
                authority.issueHost(host, dns, addresses, validity(days), out);
                return authority;
            });
            spec.commandLine().getOut().println("issued host '" + host + "' into " + out + "; check it with 'ferry pki validate "
                    + out + "'");
            spec.commandLine().getOut().flush();
            return 0;
        }

        /** An IP address literal; never a name to look up, which would put whatever DNS says into the certificate. */
        private static InetAddress address(String ip) {
            if (!ip.matches("[0-9.]+|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")) {
                throw new CliFailure(CliFailure.USAGE, "--ip " + ip + ": not an IP address; give names with --dns");
            }
            try {
                return InetAddress.getByName(ip);
            } catch (UnknownHostException e) {
                throw new CliFailure(CliFailure.USAGE, "--ip " + ip + ": not an IP address; give names with --dns", e);
            }
        }
    }

    @Command(name = "client", mixinStandardHelpOptions = true,
            description = {"Issue an operator's certificate (CN=NAME, OU=operators; clientAuth only) into OUT: ca-cert.pem, "
                    + "client-cert.pem, client-key.pem (0600). Give OUT to the ferry command with --cert OUT or $FERRY_CERT; "
                    + "agents let operators call every API but the peer calls."})
    static final class Client implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "NAME", description = "the operator's name, as agents log it")
        String name;

        @Option(names = "--ca", required = true, paramLabel = "DIR", description = "the CA's directory ('ferry pki init')")
        Path ca;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "where the files go (created with mode 0700)")
        Path out;

        @Option(names = "--days", paramLabel = "N", defaultValue = "365",
                description = "how long the certificate is valid, at most as long as the CA (default: ${DEFAULT-VALUE})")
        int days;

        @Override
        public Integer call() {
            if (name.isBlank()) {
                throw new CliFailure(CliFailure.USAGE, "NAME is empty; give the operator's name");
            }
            run(() -> {
                CertificateAuthority authority = CertificateAuthority.load(ca, Clock.systemUTC());
                authority.issueOperator(name, validity(days), out);
                return authority;
            });
            spec.commandLine().getOut().println("issued operator '" + name + "' into " + out + "; use it with --cert " + out);
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    @Command(name = "validate", mixinStandardHelpOptions = true,
            description = {"Check a CA's, a host's or an operator's directory: expiry, each key against its certificate, "
                    + "each certificate against ca-cert.pem, purposes, SANs of server certificates, key file permissions.",
                    "Prints each problem with what to fix. Exits 0 when nothing is wrong (warnings, such as a certificate "
                            + "that expires within 30 days, are printed but do not fail), 1 otherwise."})
    static final class Validate implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "DIR", description = "the directory to check")
        Path dir;

        @Override
        public Integer call() {
            List<PkiValidator.Problem> problems = new PkiValidator(Clock.systemUTC()).validate(dir);
            PrintWriter out = spec.commandLine().getOut();
            problems.forEach(out::println);
            boolean failed = problems.stream().anyMatch(p -> p.severity() == PkiValidator.Severity.ERROR);
            if (!failed) {
                out.println(dir + ": ok" + (problems.isEmpty() ? "" : " (with warnings)"));
            }
            out.flush();
            return failed ? 1 : 0;
        }
    }

    private static Duration validity(int days) {
        if (days < 1) {
            throw new CliFailure(CliFailure.USAGE, "--days must be at least 1, was " + days);
        }
        return Duration.ofDays(days);
    }

    private interface PkiCall<T> {
        T run() throws PkiException;
    }

    private static <T> T run(PkiCall<T> call) {
        try {
            return call.run();
        } catch (PkiException e) {
            throw new CliFailure(CliFailure.USAGE, e.getMessage(), e);
        }
    }
}
