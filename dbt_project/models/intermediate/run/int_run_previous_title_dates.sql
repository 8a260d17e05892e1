{#- The (title, local date) rows of fct_title_daily that this run's changes touch as they were
    before the run: deleted and recomputed together with the new ones. -#}
-- depends_on: {{ ref('int_run_changes') }}
{% set previous_sessions = previous_relation('main', 'fct_viewing_sessions') -%}
{%- set previous_cycles = previous_relation('main', 'fct_watch_cycles') -%}

with

{% if previous_sessions and previous_cycles %}

changes as (

    select * from {{ ref('int_run_changes') }}

),

session_dates as (

    select
        previous_sessions.title_id,
        previous_sessions.local_date

    from {{ previous_sessions }} as previous_sessions
    where (previous_sessions.profile_id, previous_sessions.title_id) in (
        select
            changes.profile_id,
            changes.title_id
        from changes
    )

),

completion_dates as (

    select
        previous_cycles.title_id,
        previous_cycles.completed_local_date as local_date

    from {{ previous_cycles }} as previous_cycles
    where
        previous_cycles.is_completed
        and (previous_cycles.profile_id, previous_cycles.title_id) in (
            select
                changes.profile_id,
                changes.title_id
            from changes
        )

),

title_dates as (

    select
        title_id,
        local_date
    from session_dates

    union

    select
        title_id,
        local_date
    from completion_dates

)

{% else %}

title_dates as (

    select
        cast(null as varchar) as title_id,
        cast(null as date) as local_date

    where false

)

{% endif %}

select * from title_dates
