package dev.ferry.conformance;

import dev.ferry.device.ToolDialect;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * {@code ferry tool template}: a commented skeleton tool in POSIX shell for one dialect and device
 * class. It parses the command line, keeps a note of what it did for recover to undo, and passes
 * {@code ferry tool check}; its authors put their device's work where the comments say.
 */
public final class ToolTemplate {
    private ToolTemplate() {}

    /** The skeleton's text. */
    public static String text(ToolDialect dialect, String deviceClass) {
        String body = dialect == ToolDialect.XEN ? XEN : FERRY;
        return body.replace("@CLASS@", deviceClass).replace("@DIALECT@", dialect.wireName());
    }

    /** Writes the skeleton to {@code file}, executable; refuses to replace a file that exists. */
    public static void write(Path file, ToolDialect dialect, String deviceClass) throws IOException {
        try {
            Files.writeString(file, text(dialect, deviceClass), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (FileAlreadyExistsException e) {
            throw new FileAlreadyExistsException(file.toString(), null, "it exists already; remove it or choose another name");
        }
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private static final String HEAD = """
            #!/bin/sh
            # A Ferry migration tool for @CLASS@ devices, dialect @DIALECT@.
            #
            # Made by 'ferry tool template --dialect @DIALECT@ --type @CLASS@'. Put your device's work where
            # the comments say, then run
            #     ferry tool check THIS_FILE --dialect @DIALECT@ --type @CLASS@ [--mode save]
            # until it says the tool conforms. The contract: docs/external-tools.md in Ferry's sources.
            #
            # Ferry runs this file without a shell, arguments verbatim, in a clean environment (PATH, LANG,
            # HOME), with a timeout per step, and keeps the last 64 KiB of each output stream.
            # What the check holds every tool to:
            #   - exit 0 when the step worked and non-zero when it did not; never print an error and exit 0;
            #   - wait for everything the tool starts: nothing may run on after it exits;
            #   - step 0 (check) looks and touches nothing;
            #   - recover undoes whatever the steps did, may come for a device that did nothing yet,
            #     and may come twice: it must be idempotent.
            """;

    private static final String FERRY = HEAD + """
            #
            # Called as
            #     THIS_FILE --step check|pre-suspend|post-suspend|sync|recover --device-type T --device-id ID
            #               --vm NAME --vm-uuid UUID --mode live|save --destination HOST_OR_FILE
            #               [--last-good-step STEP] [--destination-path PATH]
            # Stdout lines that are JSON objects are read: {"progress":0.5}, {"message":"..."}, {"error":"..."}.
            set -eu

            # json KEY TEXT: one JSON object on one line of stdout.
            json() {
                printf '{"%s":"%s"}\\n' "$1" "$(printf '%s' "$2" | tr -d '\\000-\\037' | sed 's/\\\\/\\\\\\\\/g; s/"/\\\\"/g')"
            }
            fail() { json error "$1"; exit 1; }
            refuse() { json error "$1"; exit 2; }

            step='' type='' id='' vm='' uuid='' mode='' destination='' last_good='' destination_path=''
            while [ $# -gt 0 ]; do
                [ $# -ge 2 ] || fail "option $1 needs a value"
                case $1 in
                    --step) step=$2 ;;
                    --device-type) type=$2 ;;
                    --device-id) id=$2 ;;
                    --vm) vm=$2 ;;
                    --vm-uuid) uuid=$2 ;;
                    --mode) mode=$2 ;;
                    --destination) destination=$2 ;;
                    --last-good-step) last_good=$2 ;;
                    --destination-path) destination_path=$2 ;;
                    *) fail "unknown option $1" ;;
                esac
                shift 2
            done

            # What this tool did for the device so far, for recover to undo. Named by the VM's UUID and the
            # device's id only, so that no name can reach outside the directory.
            state="${TMPDIR:-/tmp}/ferry-tool-$uuid-$id"

            case $step in
            check)
                # Step 0: can device $id ($type) of VM $vm move to $destination ($mode mode)?
                # Look, do not touch. To refuse: refuse "why, and what to do about it"
                ;;
            pre-suspend)
                # Step 1: the guest still runs. Start what can be done ahead of the pause.
                # A disk tool fills $destination_path in place here and in the next steps.
                echo pre-suspend > "$state"
                ;;
            post-suspend)
                # Step 2: the guest is paused. Copy what changed; other devices run their step 2 meanwhile.
                echo post-suspend >> "$state"
                echo '{"progress":1}'
                json message "post-suspend done"
                ;;
            sync)
                # Step 3: finish what step 2 started. After this the guest resumes at the destination,
                # so the notes of this host are no longer needed.
                rm -f "$state"
                ;;
            recover)
                # Undo every step up to $last_good (check, pre-suspend, post-suspend or sync); the device
                # stays as it was on this host.
                rm -f "$state"
                ;;
            *)
                fail "unknown step '$step'; this tool knows check, pre-suspend, post-suspend, sync and recover"
                ;;
            esac
            """;

    private static final String XEN = HEAD + """
            #
            # Called as xend called its external device migration tools:
            #     THIS_FILE -type CLASS -step N -host DEST -domname NAME [-recover]
            # N is 0 (check), 1 (before the guest is suspended), 2 (after), 3 (sync). With -recover, N is the
            # last step that completed and the tool undoes the steps up to it. In save mode DEST is the
            # save file's path. A vbd tool finds the path it fills in $FERRY_DESTINATION_PATH.
            # A stdout line containing 'Error' fails the step, as does a non-zero exit.
            set -eu

            fail() { echo "Error: $1"; exit 1; }

            type='' step='' host='' domname='' recover=''
            while [ $# -gt 0 ]; do
                case $1 in
                    -recover) recover=yes; shift; continue ;;
                esac
                [ $# -ge 2 ] || fail "option $1 needs a value"
                case $1 in
                    -type) type=$2 ;;
                    -step) step=$2 ;;
                    -host) host=$2 ;;
                    -domname) domname=$2 ;;
                    *) fail "unknown option $1" ;;
                esac
                shift 2
            done

            # What this tool did for the device so far, for -recover to undo.
            state="${TMPDIR:-/tmp}/xen-tool-$type-$(printf '%s' "$domname" | tr -c 'A-Za-z0-9_.-' _)"

            if [ -n "$recover" ]; then
                # Undo every step up to $step; the device stays as it was on this host.
                rm -f "$state"
                exit 0
            fi

            case $step in
            0)
                # Can the $type device of $domname move to $host? Look, do not touch.
                # To refuse: fail "why, and what to do about it"
                ;;
            1)
                # The guest still runs. Start what can be done ahead of the pause.
                echo 1 > "$state"
                ;;
            2)
                # The guest is paused. Copy what changed.
                echo 2 >> "$state"
                ;;
            3)
                # Finish what step 2 started. After this the guest resumes at $host, so the notes of this
                # host are no longer needed.
                rm -f "$state"
                ;;
            *)
                fail "unknown step '$step'; this tool knows steps 0 to 3"
                ;;
            esac
            """;
}
