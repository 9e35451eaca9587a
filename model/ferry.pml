/*
 * Ferry's live-migration protocol, with crashes, for SPIN (docs/model.md explains it). The
 * destination agent is in destination.pml, included below.
 *
 * Processes: the source agent (MigrationCoordinator, Rollback, SourceRecovery), the destination
 * agent (IncomingMigrations, DestinationRecovery), the source QEMU, the network between the
 * agents (loses, duplicates and reorders peer requests, loses answers) and the faults (agent
 * crashes, device steps that fail or hang, an operator's cancel). One VM, one device, one
 * migration. Each atomic block is one durable write or one QEMU command; a crash falls between
 * any two of them. Every transition names the Java class and method it stands for.
 *
 * Broken variants (each must give a counterexample, ModelCheckIT checks that it does):
 *   -DBROKEN_RESUME_ON_SILENCE   the source resumes its guest when the switchover gets no answer
 *   -DBROKEN_OWNERSHIP_IN_MEMORY the destination answers "who owns it" from memory only
 *   -DBROKEN_RECOVER_UNSTARTED   a restarted source recovers every device, started or not
 *   -DBROKEN_NO_RESUME_AT_RESTART a restarted destination leaves a VM it owns paused
 *   -DUNCONFIRMED_ABORT          the rule before the model found it: the source resumes after a
 *                                switchover even when the destination refused the abort
 *   -DABORT_IGNORES_HISTORY      the rule before the model found it: a restarted destination accepts
 *                                an abort of a migration it took before the restart
 *   -DUNFENCED_ABORT             the rule before the model found it: an abort of a migration the
 *                                destination does not know is not remembered, so a late prepare runs
 */

/* Fault budgets: how many faults one run may suffer in all (FAULTS), and of each kind. */
#ifndef FAULTS
#define FAULTS 2
#endif
#ifndef SRC_CRASHES
#define SRC_CRASHES 1
#endif
#ifndef DST_CRASHES
#define DST_CRASHES 1
#endif
#ifndef LOSSES
#define LOSSES 1
#endif
#ifndef DUPLICATES
#define DUPLICATES 1
#endif
#ifndef SILENCES
#define SILENCES 1
#endif
#ifndef OUTAGES
#define OUTAGES 1
#endif
#ifndef CANCELS
#define CANCELS 1
#endif
#ifndef STEP_FAULTS
#define STEP_FAULTS 1
#endif

/* Peer requests (PeerProtocol) and their answers. UNREACHABLE is the client's: no answer at all. */
mtype = { CHECK, PREPARE, SWITCHOVER, ABORT, OWNERSHIP, NONE,
          OK, ERROR, NOT_TAKEN, OWNED, PREPARED, ABORTED, UNKNOWN, UNREACHABLE };

/* The source QEMU: the guest runs; paused before switchover; stream sent (postmigrate); quit. */
#define SQ_RUN  1
#define SQ_PRE  2
#define SQ_DONE 3
#define SQ_QUIT 4
/* The destination QEMU: none; listening (-incoming); stream in, paused; incoming failed; runs. */
#define DQ_NONE 0
#define DQ_IN   1
#define DQ_RECV 2
#define DQ_FAIL 3
#define DQ_RUN  4

/* Phase: the last phase the source journal entered (SourceRecovery.settle reads it). */
#define J_NONE      0
#define J_CHECK     1
#define J_PREPARE   2
#define J_PRE       3
#define J_RAM       4
#define J_POST      5
#define J_SYNC      6
#define J_SWITCHOVER 7
#define J_CLEANUP   8
#define J_ROLLING   9
#define J_FINAL     10

/* MigrationRecord.result on either host: none yet (open), or final. */
#define R_NONE      0
#define R_OPEN      1
#define R_COMPLETED 2
#define R_ROLLED    3
#define R_FAILED    4
#define R_REFUSED   5

/* DestinationState, in the destination's memory (IncomingMigrations.incoming); NONE = not in the map. */
#define DS_NONE      0
#define DS_PREPARED  1
#define DS_OWNED     2
#define DS_RESUMED   3

/* ---- shared state ---- */
byte sq = SQ_RUN;           /* source QEMU */
bool smig;                  /* a QEMU migration is active on the source */
byte dq = DQ_NONE;          /* destination QEMU */

/* source agent: durable (SQLite) */
byte sj = J_NONE;           /* journal: last phase entered */
byte s_record = R_NONE;     /* history row's result */
bool owner_unknown;         /* the journal's last entry says FAILED with owner_unknown */
bool s_defined = true;      /* HostVms: the VM is defined on the source */
bool sj_switchover;         /* journal: SWITCHOVER entered (the destination may have been asked to take the VM) */
bool dev_started;           /* journal: device step 1 STARTED */
bool dev_recovered;         /* journal: device RECOVER OK */
/* source agent: volatile */
bool s_up = true;
bool s_crashed;
byte s_inc;                 /* incarnation: answers on a dead agent's connections go nowhere */
mtype s_wait = NONE;        /* the request the source waits for an answer to */
bool s_finished;
bool cancel_asked;
bool s_live = true;         /* the migration runs on the agent that started it (a cancel reaches it) */

/* destination agent: durable */
byte d_record = R_NONE;
bool dj_switchover;         /* journal: SWITCHOVER entered (ownership) */
bool d_defined;             /* HostVms: the VM is defined (recorded) on the destination */
/* destination agent: volatile */
byte dst = DS_NONE;
bool d_up = true;
bool d_crashed;

/* fault budgets */
byte src_crashes = SRC_CRASHES;
byte dst_crashes = DST_CRASHES;
byte losses = LOSSES;
byte duplicates = DUPLICATES;
byte silences = SILENCES;
byte step_faults = STEP_FAULTS;
byte cancels = CANCELS;
byte outages = OUTAGES;
byte faults = FAULTS;

/* ghosts: what the properties talk about */
bool dst_resumed_ever;      /* the destination resumed the guest at some point */
bool src_resumed_after;     /* the source resumed the guest after that */
bool recovered_unstarted;   /* a device was recovered that never began step 1 */

/* the network: requests (kind, source incarnation) and the answer to the current request */
chan req = [3] of { mtype, byte };
chan ans = [1] of { mtype, byte, mtype };

#define running ((sq == SQ_RUN) + (dq == DQ_RUN))
#define s_final (s_record >= R_COMPLETED && !owner_unknown)
#define d_final (d_record != R_OPEN)
/* Exactly one copy, running, with nothing of the other left, and the migration final on both sides. */
#define settled (s_finished && s_final && d_final \
                 && ((sq == SQ_RUN && dq == DQ_NONE) || (sq == SQ_QUIT && dq == DQ_RUN)) \
                 && (s_record != R_ROLLED || !dev_started || dev_recovered))

ltl never_two_running { [] (running <= 1) }
ltl source_never_resumes_after_destination { [] !src_resumed_after }
ltl device_recovered_only_if_started { [] !recovered_unstarted }
ltl eventually_one_running_and_final { <> [] settled }

/* ---- source QEMU (QmpSourceQemu, SourceQemu) ---- */

/* Resuming the source guest: QmpSourceQemu.resume ('cont'), or QEMU restarting it after a failed migration. */
inline src_resume() {
    if
    :: dst_resumed_ever -> src_resumed_after = true
    :: else
    fi;
    sq = SQ_RUN
}

/* QmpSourceQemu.cancelMigration: 'migrate_cancel'; a cancel at pre-switchover restarts the guest, after completion it does nothing. */
inline qemu_cancel() {
    atomic {
        if
        :: smig ->
            smig = false;
            if :: dq == DQ_IN -> dq = DQ_FAIL :: else fi;
            if :: sq == SQ_PRE -> src_resume() :: else fi
        :: else
        fi
    }
}

/* QEMU on its own: RAM converges and it pauses before switchover; or the stream breaks and the migration fails. */
active proctype SourceQemu() {
end:
    do
    :: atomic { smig && sq == SQ_RUN && dq == DQ_IN -> sq = SQ_PRE }
    :: atomic { smig && dq != DQ_IN && dq != DQ_RECV ->
            smig = false;
            if :: sq == SQ_PRE -> src_resume() :: else fi }
    od
}

/* ---- peer calls (PeerClient) ---- */

/* PeerClient.call: one request; UNREACHABLE when the peer is down, the request or its answer is lost, or the client's timeout fires first. */
inline call(k, a) {
    atomic {
        do :: ans?_, _, _ :: empty(ans) -> break od;
        if
        :: d_up && nfull(req) -> s_wait = k; req!k, s_inc
        :: !d_up -> a = UNREACHABLE                   /* connection refused */
        fi
    }
    if
    :: s_wait == k ->
        if
        :: atomic { ans?eval(k), eval(s_inc), a -> s_wait = NONE }
        :: atomic { timeout -> a = UNREACHABLE; s_wait = NONE }
        :: atomic { silences > 0 && faults > 0 -> silences--; faults--; a = UNREACHABLE; s_wait = NONE }
        fi
    :: else
    fi
}

/* PeerClient.callPatiently: asked again while the peer does not answer at all, until the patience runs out. */
inline call_patiently(k, a) {
    do
    :: call(k, a);
       if
       :: a == UNREACHABLE && d_up -> skip      /* ask again */
       :: a == UNREACHABLE -> d_up              /* the agent restarts; asking meanwhile changes nothing */
       :: atomic { a == UNREACHABLE && outages > 0 && faults > 0 ->
              outages--; faults--; break }      /* unreachable for longer than the patience */
       :: a != UNREACHABLE -> break
       fi
    od
}

/* ---- source agent ---- */

/* Rollback.run: cancel QEMU's migration, recover the device if it started, resume if it ran and the switchover was
   never asked (the destination cannot hold the guest), abort the destination, and past the switchover request
   resume only when the destination confirmed the abort. */
inline rollback(dest_touched, qemu_started, after_switchover) {
    atomic { if :: sj < J_SWITCHOVER -> sj = J_ROLLING :: else fi }   /* rec.enter(ROLLING_BACK) when canFollow */
    if :: qemu_started -> qemu_cancel() :: else fi;                   /* source.cancelMigration() */
    /* DeviceSteps.recoverStarted (live: the devices it started; restart: SourceRecovery.lastGoodSteps) */
    if
    :: dev_started && !dev_recovered -> atomic { dev_recovered = true }
#ifdef BROKEN_RECOVER_UNSTARTED
    :: !dev_started && !dev_recovered && recovering -> atomic { dev_recovered = true; recovered_unstarted = true }
#endif
    :: else
    fi;
#ifndef UNCONFIRMED_ABORT
    /* Rollback.resumedFirst: before the switchover request the guest runs again before the teardown. */
    atomic { if :: !after_switchover && sq != SQ_QUIT && sq != SQ_RUN -> src_resume() :: else fi }
#endif
    abort_ok = true;
    if
    :: dest_touched ->                                                /* destination.abort() */
        call_patiently(ABORT, a);
        abort_ok = (a == OK)
    :: else
    fi;
    /* resumeIfItWasRunning: the guest ran before the migration (the journal's CHECK entry says so);
       QmpSourceQemu.resume sends 'cont' only to a guest that does not run */
#ifdef UNCONFIRMED_ABORT
    atomic { if :: sq != SQ_QUIT && sq != SQ_RUN -> src_resume() :: else fi }
#else
    /* Past the switchover request the destination may own the VM: resume only when it confirmed the abort. */
    atomic {
        if
        :: sq != SQ_QUIT && sq != SQ_RUN && (!after_switchover || abort_ok) -> src_resume()
        :: else
        fi
    }
#endif
#ifdef UNCONFIRMED_ABORT
    atomic { sj = J_FINAL; owner_unknown = false; s_record = (abort_ok -> R_ROLLED : R_FAILED) }
#else
    /* An abort the destination did not confirm leaves something there: keep asking (SourceRecovery.settleLater). */
    if
    :: abort_ok -> atomic { sj = J_FINAL; owner_unknown = false; s_record = R_ROLLED }   /* rec.finish / recovered */
    :: else -> atomic { sj = J_FINAL; owner_unknown = true; s_record = R_FAILED }        /* rec.finishOwnerUnknown;
                                    after a restart Journal.enterOwnerUnknown with no result: not final either way */
    fi
#endif
}

/* A device step (DeviceSteps): done, or failed / hung past its deadline / stopped by a cancel. */
inline step(failed) {
    if
    :: failed = false
    :: atomic { step_faults > 0 && faults > 0 -> step_faults--; faults--; failed = true }
    :: atomic { cancel_asked -> failed = true }
    fi
}

active proctype Source() {
    mtype a;
    bool failed;
    bool abort_ok;
    bool recovering;
    byte last;

    atomic { s_record = R_OPEN }                           /* SourceMigrations.launch: the history row first */
    {
        /* MigrationCoordinator.migrate */
        atomic { sj = J_CHECK }                            /* rec.enterCheck(wasRunning = true) */
        step(failed);                                      /* devices.checkAll: step 0 */
        if :: failed -> atomic { sj = J_FINAL; s_record = R_REFUSED }; goto done :: else fi;
        call(CHECK, a);                                    /* destination.check() */
        if
        :: a != OK -> atomic { sj = J_FINAL; s_record = R_REFUSED }; goto done
        :: cancel_asked -> rollback(false, false, false); goto settle_later   /* cancel.throwIfCancelled() */
        :: else
        fi;
        atomic { sj = J_PREPARE }                          /* rec.enter(PREPARE) */
        call(PREPARE, a);                                  /* destination.prepare() */
        if :: a != OK || cancel_asked -> rollback(true, false, false); goto settle_later :: else fi;
        atomic { sj = J_PRE; dev_started = true }          /* rec.enter(PRE_SUSPEND); startAll journals START */
        step(failed);                                      /* preSuspend + awaitPreSuspend */
        if :: failed -> rollback(true, false, false); goto settle_later :: else fi;
        atomic { sj = J_RAM }                              /* rec.enter(RAM_COPY) */
        atomic { smig = true }                             /* source.startMigration (pause-before-switchover) */
        if                                                 /* source.awaitPreSwitchover */
        :: sq == SQ_PRE
        :: !smig -> rollback(true, true, false); goto settle_later
        :: atomic { step_faults > 0 && faults > 0 -> step_faults--; faults-- } -> rollback(true, true, false); goto settle_later  /* no convergence */
        :: cancel_asked -> rollback(true, true, false); goto settle_later
        fi;
        atomic { sj = J_POST }                             /* rec.enter(POST_SUSPEND) */
        step(failed);                                      /* devices.concurrently(POST_SUSPEND) */
        if :: failed -> rollback(true, true, false); goto settle_later :: else fi;
        atomic { sj = J_SYNC }                             /* rec.enter(SYNC) */
        step(failed);                                      /* devices.concurrently(SYNC) */
        if :: failed -> rollback(true, true, false); goto settle_later :: else fi;
        atomic {                                           /* source.continueSwitchover + awaitCompleted */
            smig = false;
            if
            :: dq == DQ_IN -> sq = SQ_DONE; dq = DQ_RECV; failed = false
            :: else -> src_resume(); failed = true         /* the stream broke: QEMU fails it and restarts the guest */
            fi
        }
        if :: failed -> rollback(true, true, false); goto settle_later :: else fi;
        /* MigrationCoordinator.switchOver */
        atomic { sj = J_SWITCHOVER; sj_switchover = true } /* rec.enter(SWITCHOVER) */
        call_patiently(SWITCHOVER, a);                     /* destination.switchover() */
        if
        :: a == OK ->
            atomic { sj = J_CLEANUP }                      /* rec.enter(CLEANUP) */
            atomic { sq = SQ_QUIT }                        /* source.release() */
            atomic { sj = J_FINAL; s_defined = false; s_record = R_COMPLETED }   /* rec.finish; SourceMigrations.settle: forget */
            goto done
        :: a == NOT_TAKEN -> rollback(true, false, true); goto settle_later    /* Destination.NotTakenException */
#ifdef BROKEN_RESUME_ON_SILENCE
        :: else -> rollback(false, false, false); goto settle_later
#else
        :: else ->                                         /* rec.finishOwnerUnknown: keep the guest paused */
            atomic { sj = J_FINAL; owner_unknown = true; s_record = R_FAILED }
            goto settle_later
#endif
        fi;
settle_later:
        if :: owner_unknown -> goto recover :: else -> goto done fi;
recover:
        /* SourceRecovery.attempt / settle (after a restart, or settleLater on the live agent) */
        recovering = true;
        if
        :: s_final -> goto done                            /* recoverAtStart: only unfinished or owner unknown */
        :: !s_defined -> atomic { sj = J_FINAL; s_record = R_COMPLETED }; goto done   /* the VM had left */
        :: else
        fi;
        last = sj;
        if
        :: last <= J_CHECK -> rollback(false, true, false); goto settle_later   /* nothing reached another host */
        :: else
        fi;
        call(OWNERSHIP, a);                                /* peer.ownership() */
        if
        :: a == UNREACHABLE -> d_up; goto recover          /* no answer: ask again in 5 s */
        :: a == OWNED ->                                   /* SourceRecovery.leave */
            atomic { sq = SQ_QUIT }                        /* SourceMigrations.release */
            atomic { sj = J_FINAL; s_defined = false; owner_unknown = false; s_record = R_COMPLETED }
            goto done
        :: else -> rollback(true, true, sj_switchover); goto settle_later   /* SourceRecovery.rollBack */
        fi
    } unless { s_crashed };
    /* the agent restarts: SourceRecovery.recoverAtStart; what it had in memory is gone */
    atomic { s_crashed = false; s_up = true; s_inc++; s_wait = NONE; cancel_asked = false }
    goto recover;
done:
    s_finished = true
}

#include "destination.pml"

/* ---- faults ---- */

/* An agent dies (SIGKILL): its connections close, a request it had not read yet is gone. */
active proctype Crashes() {
    mtype k, a;
    byte i;
end:
    do
    :: atomic { src_crashes > 0 && faults > 0 && s_up && !s_finished ->
           src_crashes--; faults--; s_up = false; s_live = false; s_crashed = true; s_wait = NONE }
    :: atomic { dst_crashes > 0 && faults > 0 && d_up ->
           dst_crashes--; faults--; d_up = false; d_crashed = true;
           do :: req?_, _ :: empty(req) -> break od;
           if
           :: s_wait != NONE && nfull(ans) -> ans!s_wait, s_inc, UNREACHABLE
           :: s_wait == NONE || full(ans) -> skip
           fi }
    :: atomic { losses > 0 && faults > 0 && nempty(req) -> losses--; faults--; req?_, _ }          /* a request is lost */
    :: atomic { losses > 0 && faults > 0 && nempty(ans) -> losses--; faults--; ans?_, _, _ }       /* an answer is lost */
    :: atomic { duplicates > 0 && faults > 0 && nempty(req) && len(req) < 3 ->          /* a request arrives twice */
           duplicates--; faults--; req?k, i; req!k, i; req!k, i }
    :: atomic { cancels > 0 && faults > 0 && s_live && sj < J_SWITCHOVER && sj > J_NONE ->
           cancels--; faults--; cancel_asked = true }                                 /* SourceMigrations.cancel */
    od
}
