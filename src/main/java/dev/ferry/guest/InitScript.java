package dev.ferry.guest;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The guest's {@code /init}, a busybox sh script. What it prints on the serial console, one line
 * each, is what tests read:
 *
 * <pre>
 * boot UUID              a fresh id per boot: a migrated guest keeps it, a rebooted one does not
 * pcr-sha256 N HEX       TPM PCRs 0..7, or "tpm absent"
 * tick N                 every 100 ms from 1, from its own process so disk writes never delay it
 * disk new | disk resume N | disk absent
 * wrote N                record N is on the disk: its O_DIRECT write and fsync returned
 * write-failed N WHY     the write of record N failed; it is tried again
 * disk full N            no room after record N; ticks go on
 * insmod-failed NAME     a module did not load
 * </pre>
 *
 * <p>Records are written with busybox {@code dd oflag=direct conv=fsync}: O_DIRECT bypasses the
 * guest page cache and fsync flushes the device's write cache, so "wrote N" is printed only for
 * a record the virtual disk has acknowledged as durable. Records are paced at one per 50 ms.
 *
 * <p>Booted on a disk that already has records (after a restore, or a cold boot of a copied
 * disk), the guest continues after the highest record it finds instead of starting again at 1:
 * starting over would overwrite old records with identical bytes, so a record lost before the
 * reboot could be silently refilled and the verifier could no longer see the loss. The scan reads
 * the disk 1 MiB at a time and stops at the first megabyte without any record header.
 *
 * <p>The script has no backslashes, so the Java text block holds it verbatim.
 */
final class InitScript {
    private static final Pattern MODULE_NAME = Pattern.compile("[A-Za-z0-9_]+");

    /** Busybox applets the script runs as commands (the rest are sh builtins). */
    static final List<String> APPLETS =
            List.of("sh", "mount", "insmod", "cat", "sleep", "usleep", "dd", "grep", "tail", "sha256sum");

    static final String TEMPLATE = """
            #!/bin/sh
            # Ferry test guest. Modules in load order, filled in by the kit:
            MODULES="@MODULES@"
            export PATH=/bin
            t=/tmp
            nl='
            '
            mount -t proc proc /proc
            mount -t sysfs sysfs /sys
            mount -t devtmpfs devtmpfs /dev
            # Kernel messages would split the lines tests parse.
            echo 1 > /proc/sys/kernel/printk
            for m in $MODULES; do insmod /lib/modules/$m.ko || echo "insmod-failed $m"; done
            boot=$(cat /proc/sys/kernel/random/uuid)
            echo "boot $boot"

            # Uptime in centiseconds, without a fork; the 1 prefix keeps "0.08" from reading as octal.
            now_cs() { read up rest < /proc/uptime; now=$(( ${up%.*} * 100 + 1${up#*.} - 100 )); }

            # Sleeps until the next deadline $1 cs after the last; re-anchors when late (no bursts).
            pace() {
              next=$((next + $1)); now_cs
              if [ $((next - now)) -gt 0 ]; then usleep $(( (next - now) * 10000 )); else next=$now; fi
            }

            pcrs() {
              d=/sys/class/tpm/tpm0/pcr-sha256
              if [ -d $d ]; then
                for i in 0 1 2 3 4 5 6 7; do read v < $d/$i; echo "pcr-sha256 $i $v"; done
              else
                echo "tpm absent"
              fi
            }

            ticker() {
              n=0; now_cs; next=$now
              while :; do n=$((n + 1)); echo "tick $n"; pace 10; done
            }

            # Disk header block for boot id $1 into $t/hdr.
            diskheader() { { printf '%-4095s' "FERRYDISK 1 4096 $1"; echo; } > $t/hdr; }

            # Record $1 into $t/rec: a 128-byte header line, then 62 lines of 64 bytes.
            record() {
              l="$(printf '%-63s' "ferry record $1")$nl"
              l2=$l$l; l4=$l2$l2; l8=$l4$l4; l16=$l8$l8; l32=$l16$l16
              printf '%s' "$l32$l16$l8$l4$l2" > $t/body
              sum=$(sha256sum < $t/body); sum=${sum%% *}
              { printf '%-127s' "FERRYREC $1 $sum"; echo; cat $t/body; } > $t/rec
            }

            # Writes file $1 to 4 KiB block $2, returning only once the disk acknowledged it.
            put() {
              dd if=$1 of=$dev bs=4096 seek=$2 count=1 oflag=direct conv=fsync,notrunc 2>$t/dderr
            }

            highest() {
              last=0; c=0
              while :; do
                hit=$(dd if=$dev bs=1048576 skip=$c count=1 2>/dev/null | grep -o '^FERRYREC [0-9]*' | tail -n 1)
                [ -n "$hit" ] || break
                last=${hit#FERRYREC }; c=$((c + 1))
              done
            }

            writer() {
              dev=/dev/vda
              i=0; while [ ! -b $dev ] && [ $i -lt 20 ]; do usleep 100000; i=$((i + 1)); done
              if [ ! -b $dev ]; then echo "disk absent"; return; fi
              blocks=$(( $(cat /sys/block/vda/size) / 8 ))
              hdr=$(dd if=$dev bs=512 count=1 2>/dev/null | grep -o '^FERRYDISK [0-9]* [0-9]* [-0-9a-f]*')
              if [ -z "$hdr" ]; then
                diskheader $boot
                until put $t/hdr 0; do echo "write-failed 0 $(tail -n 1 $t/dderr)"; sleep 1; done
                seq=1; echo "disk new"
              else
                highest; seq=$((last + 1)); echo "disk resume $last"
              fi
              now_cs; next=$now
              while [ $seq -lt $blocks ]; do
                record $seq
                if put $t/rec $seq; then
                  echo "wrote $seq"; seq=$((seq + 1))
                else
                  echo "write-failed $seq $(tail -n 1 $t/dderr)"
                fi
                pace 5
              done
              echo "disk full $((seq - 1))"
            }

            pcrs
            ticker &
            writer &
            # init must never exit: the kernel panics when it does.
            while :; do sleep 3600; done
            """;

    private InitScript() {}

    /** The script with the module load order filled in. */
    static String render(List<String> modules) {
        for (String module : modules) {
            if (!MODULE_NAME.matcher(module).matches()) {
                throw new IllegalArgumentException("invalid kernel module name for the guest init: '" + module + "'");
            }
        }
        return TEMPLATE.replace("@MODULES@", String.join(" ", modules));
    }
}
