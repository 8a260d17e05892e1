{#- The (title, local date) pairs of the sessions and completions a run recomputes, in the
    given sessions and cycles relations (before the run, or after it), each with
    `has_session_change`: true for a date a recomputed session falls on, false for one only a
    recomputed completion does. `sessions_from` is a constant no recomputed session starts
    before (run_bound): it keeps the read of the sessions to the files of those times. -#}
{% macro changed_title_dates(changes, changed_pairs, sessions, cycles, sessions_from) -%}
    select
        sessions.title_id,
        sessions.local_date,
        true as has_session_change
    from {{ sessions }} as sessions
    inner join {{ changes }} as changes
        on
            sessions.profile_id = changes.profile_id
            and sessions.device_id = changes.device_id
            and sessions.title_id = changes.title_id
            and sessions.started_at >= changes.recompute_from
    where sessions.started_at >= {{ sessions_from }}

    union

    select
        cycles.title_id,
        cycles.completed_local_date as local_date,
        false as has_session_change
    from {{ cycles }} as cycles
    inner join {{ changed_pairs }} as changed_pairs
        on
            cycles.profile_id = changed_pairs.profile_id
            and cycles.title_id = changed_pairs.title_id
            and cycles.started_at >= changed_pairs.cycles_from
    where cycles.is_completed
{%- endmacro %}
