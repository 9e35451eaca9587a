/*
 * The destination agent of model/ferry.pml (included there): IncomingMigrations and
 * DestinationRecovery. Every transition names the Java class and method it stands for.
 */

/* IncomingMigrations.recordedOwnership: what the history says when the migration is not in memory. */
inline recorded_ownership(a) {
    if
    :: d_record == R_NONE -> a = UNKNOWN
    :: d_record == R_COMPLETED -> a = OWNED
    :: d_record == R_OPEN && d_defined -> a = OWNED
    :: d_record == R_OPEN && !d_defined -> a = PREPARED
    :: d_record == R_FAILED && d_defined && dj_switchover -> a = OWNED
    :: else -> a = ABORTED
    fi
}

/* The answer goes back only on a connection that still waits for it (the current source, this request). */
inline answer(k, i, a) {
    if
    :: i == s_inc && s_wait == k && nfull(ans) -> ans!k, i, a
    :: i != s_inc || s_wait != k || full(ans) -> skip
    fi
}

active proctype Destination() {
    mtype k, a;
    byte i;
end_serve:
    {
end:    do
        :: atomic { req??CHECK, i -> k = CHECK };          /* IncomingMigrations.check */
           if :: a = OK :: a = ERROR fi;                   /* go, or blockers */
           answer(k, i, a)
        :: atomic { req??PREPARE, i -> k = PREPARE };      /* IncomingMigrations.prepare */
           if
           :: dst == DS_PREPARED -> answer(k, i, OK)       /* asked again: the same answer */
           :: dst == DS_NONE && d_record == R_NONE ->
               atomic { d_record = R_OPEN }                /* saveMigration + journal.enterPrepare, before anything is made */
               atomic { dq = DQ_IN }                       /* runtime.startIncoming, migrate-incoming */
               if
               :: atomic { dst = DS_PREPARED; answer(k, i, OK) }
               :: atomic { step_faults > 0 && faults > 0 -> step_faults--; faults--;   /* a device's prepare or QEMU failed: tearDown */
                           dq = DQ_NONE; d_record = R_ROLLED; answer(k, i, ERROR) }
               fi
           :: else -> answer(k, i, ERROR)                  /* already known: it cannot be prepared again */
           fi
        :: atomic { req??SWITCHOVER, i -> k = SWITCHOVER };    /* IncomingMigrations.switchover */
           if
           :: dst == DS_NONE ->
               recorded_ownership(a);
               if :: a == OWNED -> answer(k, i, OK) :: else -> answer(k, i, NOT_TAKEN) fi
           :: dst == DS_RESUMED -> answer(k, i, OK)        /* in.done */
           :: dst == DS_PREPARED ->
               if                                          /* awaitReceived */
               :: dq == DQ_RECV ->
                   if
                   :: atomic { step_faults > 0 && faults > 0 -> step_faults--; faults--; answer(k, i, NOT_TAKEN) }  /* beforeOwnership failed */
                   :: atomic { dj_switchover = true }      /* journal.enter(SWITCHOVER) */
                      atomic { d_defined = true; dst = DS_OWNED }   /* vms.add, attach; in.go(OWNED) */
                      atomic { dq = DQ_RUN; dst_resumed_ever = true; dst = DS_RESUMED }   /* finishOwned: resume */
                      atomic { d_record = R_COMPLETED; answer(k, i, OK) }   /* end(COMPLETED) */
                   fi
               :: dq == DQ_FAIL || dq == DQ_NONE -> answer(k, i, NOT_TAKEN)
               :: dq == DQ_IN -> answer(k, i, ERROR)       /* the stream did not come within the limit */
               fi
           :: else -> answer(k, i, NOT_TAKEN)
           fi
        :: atomic { req??ABORT, i -> k = ABORT };          /* IncomingMigrations.abort */
           if
           :: dst == DS_NONE ->
#ifdef ABORT_IGNORES_HISTORY
               answer(k, i, OK)
#else
               recorded_ownership(a);
               if
               :: a == OWNED -> answer(k, i, ERROR)        /* the VM belongs to this host (taken before a restart) */
#ifdef UNFENCED_ABORT
               :: else -> answer(k, i, OK)
#else
               :: else -> atomic { if :: d_record == R_NONE -> d_record = R_ROLLED :: else fi;   /* recorded: */
                                   answer(k, i, OK) }                      /* a late prepare is refused */
#endif
               fi
#endif
           :: dst == DS_OWNED || dst == DS_RESUMED -> answer(k, i, ERROR)
           :: dst == DS_PREPARED ->
               atomic { dq = DQ_NONE }                     /* tearDown */
               atomic { dst = DS_NONE; d_record = R_ROLLED; answer(k, i, OK) }   /* end(ROLLED_BACK) */
           fi
        :: atomic { req??OWNERSHIP, i -> k = OWNERSHIP };  /* IncomingMigrations.ownership */
           if
           :: dst == DS_OWNED || dst == DS_RESUMED -> answer(k, i, OWNED)
           :: dst == DS_PREPARED -> answer(k, i, PREPARED)
#ifdef BROKEN_OWNERSHIP_IN_MEMORY
           :: dst == DS_NONE -> answer(k, i, UNKNOWN)
#else
           :: dst == DS_NONE -> recorded_ownership(a); answer(k, i, a)
#endif
           fi
        od
    } unless { d_crashed };
restart:
    /* the agent restarts: its memory is gone, its QEMU and its database are not */
    atomic { d_crashed = false; d_up = true; dst = DS_NONE }
    {
        /* DestinationRecovery.recoverAtStart */
        if
        :: d_record == R_OPEN && d_defined && dj_switchover ->   /* finishOwned */
            if
            :: dq == DQ_RECV || dq == DQ_RUN ->
#ifdef BROKEN_NO_RESUME_AT_RESTART
                atomic { dq = DQ_RECV; d_record = R_COMPLETED }
#else
                atomic { dq = DQ_RUN; dst_resumed_ever = true; d_record = R_COMPLETED }
#endif
            :: else -> atomic { d_record = R_FAILED }
            fi
        :: d_record == R_OPEN && !(d_defined && dj_switchover) ->  /* tearDown */
            atomic { dq = DQ_NONE }
            atomic { d_record = R_ROLLED }
        :: else
        fi
    } unless { d_crashed };
    if :: d_crashed -> goto restart :: else -> goto end_serve fi
}
