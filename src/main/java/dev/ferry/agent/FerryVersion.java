package dev.ferry.agent;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** Ferry's own version, from the Maven metadata packed into the jar; "development" when run from classes. */
public final class FerryVersion {
    private static final String VERSION = read();

    private FerryVersion() {}

    public static String get() {
        return VERSION;
    }

    private static String read() {
        try (InputStream in = FerryVersion.class.getResourceAsStream("/META-INF/maven/dev.ferry/ferry/pom.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                return p.getProperty("version", "development");
            }
        } catch (IOException e) {
            // Fall through: a missing version is no reason to fail.
        }
        String impl = FerryVersion.class.getPackage().getImplementationVersion();
        return impl != null ? impl : "development";
    }
}
