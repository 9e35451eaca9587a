package dev.ferry.lab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * A dispatcher for xen-dialect tools that works as Xen's {@code external-device-migrate} does,
 * written for these tests: it parses {@code -step -host -domname -type [-subtype] [-recover]} in
 * any order up to the first other word, sources {@code logging.sh} and the companion
 * {@code <type><subtype>-migration.sh} beside it, and runs the companion's
 * {@code <type>_migration_step} or {@code <type>_recover} with host, domain name and step through
 * {@code eval}, as the original does.
 *
 * <p>Each companion logs every call to one log, as {@code <class> step|recover <n> host <h> dom <d>},
 * and fails where {@link #failAt} tells it to, the way xend's tools of its class failed: a
 * {@code vtpm} companion prints an {@code Error} line (and exits 0: xend read only its output),
 * any other returns 1 and prints nothing that says {@code Error}.
 */
public final class XendDispatcher {
    private final Path dir;
    private final Path log;
    private final Path faults;

    private XendDispatcher(Path dir) {
        this.dir = dir;
        this.log = dir.resolve("calls.log");
        this.faults = dir.resolve("faults");
    }

    /** Writes the dispatcher, its logging helper, and one companion per class into {@code dir}. */
    public static XendDispatcher install(Path dir, List<String> classes) throws IOException {
        XendDispatcher d = new XendDispatcher(Files.createDirectories(dir));
        d.write("external-device-migrate", DISPATCHER);
        d.write("logging.sh", """
                # What the companions use to record a call: one line per call, appended.
                log() {
                    printf '%%s\\n' "$*" >> '%s'
                }
                """.formatted(d.log));
        for (String cls : classes) {
            d.write(cls + "-migration.sh", companion(cls, d.faults));
        }
        d.reset();
        return d;
    }

    /** The dispatcher's path: what the agents' config names as the tool. */
    public Path path() {
        return dir.resolve("external-device-migrate");
    }

    /** The companion of {@code cls} fails its call at step {@code step} (not its recoveries). */
    public void failAt(String cls, int step) throws IOException {
        Files.writeString(faults, cls + ":" + step + "\n");
    }

    /** Every call so far, one line each, in the order they came. */
    public List<String> calls() throws IOException {
        return Files.exists(log) ? Files.readAllLines(log) : List.of();
    }

    /** No companion fails, and the calls so far are forgotten. */
    public void reset() throws IOException {
        Files.writeString(faults, "");
        Files.deleteIfExists(log);
    }

    private void write(String name, String text) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private static String companion(String cls, Path faults) {
        String fail = cls.equals("vtpm")
                ? "echo \"Error: injected failure of $CLASS at step $3\"; return 0"
                : "echo \"$CLASS gave up at step $3\" >&2; return 1";
        return """
                # The %1$s class's migration steps, called by external-device-migrate.
                CLASS=%1$s

                %1$s_migration_step() {
                    log "$CLASS step $3 host $1 dom $2"
                    if grep -qx "$CLASS:$3" '%2$s'; then
                        %3$s
                    fi
                    echo "$CLASS step $3 done"
                }

                %1$s_recover() {
                    log "$CLASS recover $3 host $1 dom $2"
                    echo "$CLASS recovered from step $3"
                }
                """.formatted(cls, faults, fail);
    }

    private static final String DISPATCHER = """
            #!/bin/bash
            # Dispatches xend's external device migration calls to a companion script per class.
            dir=$(dirname "$0")
            . "$dir/logging.sh"

            usage() {
                echo "usage: $0 -step N -host HOST -domname NAME -type CLASS [-subtype SUB] [-recover]"
            }

            dispatch() {
                local step="" host="" domname="" typ="" stype="" recover=""
                while [ $# -gt 0 ]; do
                    case "$1" in
                        -step) step=$2; shift 2;;
                        -host) host=$2; shift 2;;
                        -domname) domname=$2; shift 2;;
                        -type) typ=$2; shift 2;;
                        -subtype) stype=$2; shift 2;;
                        -recover) recover=1; shift;;
                        -help) usage; exit 0;;
                        *) break;;
                    esac
                done
                if [ -z "$step" ] || [ -z "$host" ] || [ -z "$typ" ] || [ -z "$domname" ]; then
                    echo "Error: -step, -host, -type and -domname are required" >&2
                    usage >&2
                    exit 1
                fi
                local companion="$dir/$typ$stype-migration.sh"
                if [ ! -r "$companion" ]; then
                    echo "Error: no companion script '$companion'"
                    return
                fi
                . "$companion"
                if [ "$recover" = 1 ]; then
                    eval "${typ}_recover" $host $domname $step "$@"
                else
                    eval "${typ}_migration_step" $host $domname $step "$@"
                fi
            }

            dispatch "$@"
            """;
}
