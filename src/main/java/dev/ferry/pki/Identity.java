package dev.ferry.pki;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * Who a verified certificate of the cluster CA says its holder is, read from its subject: the
 * organizational unit tells hosts ({@value #HOSTS_UNIT}) from operators ({@value #OPERATORS_UNIT}),
 * the common name is the host's or the operator's name. Only the cluster CA issues either kind, so
 * the unit is as trustworthy as the CA's key.
 *
 * @param kind    what the unit says
 * @param name    the common name ({@code ""} when the subject has none)
 * @param subject the whole subject, for logs
 */
public record Identity(Kind kind, String name, String subject) {
    public static final String ORGANIZATION = "Ferry cluster";
    public static final String HOSTS_UNIT = "hosts";
    public static final String OPERATORS_UNIT = "operators";

    public enum Kind {
        /** A host's certificate ({@code ferry pki issue}): a peer agent, if its name is a known peer. */
        HOST,
        /** An operator's certificate ({@code ferry pki client}). */
        OPERATOR,
        /** Neither: a certificate of the CA that Ferry did not issue as a host's or an operator's. */
        OTHER
    }

    public static Identity of(X509Certificate cert) {
        String subject = cert.getSubjectX500Principal().getName();
        String cn = "";
        String unit = "";
        try {
            for (Rdn rdn : new LdapName(subject).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    cn = rdn.getValue().toString();
                } else if (rdn.getType().equalsIgnoreCase("OU")) {
                    unit = rdn.getValue().toString();
                }
            }
        } catch (InvalidNameException e) {
            return new Identity(Kind.OTHER, "", subject);
        }
        Kind kind = switch (unit) {
            case HOSTS_UNIT -> Kind.HOST;
            case OPERATORS_UNIT -> Kind.OPERATOR;
            default -> Kind.OTHER;
        };
        return new Identity(kind, cn, subject);
    }

    /** The DNS names and IP addresses a certificate names, as text. */
    static List<String> alternativeNames(X509Certificate cert) throws CertificateParsingException {
        var names = cert.getSubjectAlternativeNames();
        return names == null ? List.of() : names.stream().map(n -> n.get(1).toString()).toList();
    }

    @Override
    public String toString() {
        return kind.name().toLowerCase(java.util.Locale.ROOT) + " '" + name + "' (" + subject + ")";
    }
}
