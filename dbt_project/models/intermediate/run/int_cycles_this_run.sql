-- This run's watch cycles: the changed pairs' cycles from their recompute points, numbered after
-- the published ones before them. fct_watch_cycles replaces its rows with these.
{%- set session_columns = [
    'session_id', 'household_id', 'profile_id', 'device_id', 'title_id', 'started_at', 'ended_at',
    'timezone_name', 'start_position_seconds', 'max_position_seconds', 'played_seconds',
    'supplemental_type', 'source_line'
] %}

with

changed_pairs as (

    select * from {{ ref('int_run_changed_pairs') }}

),

changed_streams as (

    select * from {{ ref('int_run_changed_streams') }}

),

sessions_this_run as (

    select * from {{ ref('int_sessions_this_run') }}

),

published_sessions as (

    select * from {{ source('published', 'fct_viewing_sessions') }}

),

-- The changed pairs' sessions from their cycles' recompute points as fct_viewing_sessions holds
-- them after this run: the published ones this run does not replace (those of changed streams
-- from their recompute points), and this run's.
published_sessions_kept as (

    select published_sessions.*
    from published_sessions
    semi join changed_pairs
        on
            published_sessions.profile_id = changed_pairs.profile_id
            and published_sessions.title_id = changed_pairs.title_id
            and published_sessions.started_at >= changed_pairs.cycles_from
    anti join changed_streams
        on
            published_sessions.profile_id = changed_streams.profile_id
            and published_sessions.device_id = changed_streams.device_id
            and published_sessions.title_id = changed_streams.title_id
            and published_sessions.started_at >= changed_streams.recompute_from

),

sessions as (

    select {{ session_columns | join(', ') }} from published_sessions_kept
    union all
    select {{ session_columns | join(', ') }} from sessions_this_run

),

segments as (

    select * from {{ after_run('published_intermediate', 'int_viewing_segments_merged', ['session_id']) }}

),

titles as (

    select * from {{ ref('int_titles_current') }}

),

-- Titles missing from the catalog (and not estimated from the viewing-activity feed), and
-- estimated titles never played past 0 s, have no content end, so their sessions form no cycles.
pair_sessions as (

    select
        sessions.*,
        changed_pairs.cycle_number_offset,
        titles.content_end_seconds,
        least(
            {{ var('rewatch__restart_max_seconds') }},
            {{ var('rewatch__restart_content_share') }} * titles.content_end_seconds
        ) as restart_threshold_seconds

    from sessions
    inner join changed_pairs
        on
            sessions.profile_id = changed_pairs.profile_id
            and sessions.title_id = changed_pairs.title_id
            and sessions.started_at >= changed_pairs.cycles_from
    inner join titles
        on sessions.title_id = titles.title_id
    -- Trailers, hooks and recaps are kept in the sessions but are no watch-through.
    where
        sessions.supplemental_type is null
        and titles.content_end_seconds is not null

),

cycle_starts_flagged as (

    select
        *,
        lag(max_position_seconds) over pair_order is null
        or (
            start_position_seconds < restart_threshold_seconds
            and lag(max_position_seconds) over pair_order >= restart_threshold_seconds
        ) as is_cycle_start

    from pair_sessions

    window pair_order as (
        partition by profile_id, title_id
        order by started_at asc, source_line desc nulls last, device_id asc, session_id asc
    )

),

cycles_numbered as (

    select
        *,
        cycle_number_offset + sum(case when is_cycle_start then 1 else 0 end) over (
            partition by profile_id, title_id
            order by started_at asc, source_line desc nulls last, device_id asc, session_id asc
            rows between unbounded preceding and current row
        ) as cycle_number

    from cycle_starts_flagged

),

cycle_sessions as (

    select
        *,
        md5(
            'cycle|' || profile_id || '|' || title_id || '|'
            || first_value(session_id) over (
                partition by profile_id, title_id, cycle_number
                order by started_at asc, source_line desc nulls last, device_id asc, session_id asc
            )
        ) as cycle_id

    from cycles_numbered

),

-- Coverage: the union of the cycle's session segments, clipped to [0, content end].
cycle_pieces as (

    select
        cycle_sessions.cycle_id,
        greatest(segments.segment_start_seconds, 0) as piece_start_seconds,
        least(segments.segment_end_seconds, cycle_sessions.content_end_seconds) as piece_end_seconds

    from cycle_sessions
    inner join segments
        on cycle_sessions.session_id = segments.session_id

),

cycle_pieces_ordered as (

    select
        *,
        max(piece_end_seconds) over (
            partition by cycle_id
            order by piece_start_seconds, piece_end_seconds
            rows between unbounded preceding and 1 preceding
        ) as previous_reach_seconds

    from cycle_pieces
    where piece_end_seconds > piece_start_seconds

),

cycle_coverage as (

    select
        cycle_id,
        sum(
            greatest(
                piece_end_seconds
                - greatest(piece_start_seconds, coalesce(previous_reach_seconds, piece_start_seconds)),
                0
            )
        ) as coverage_seconds

    from cycle_pieces_ordered

    group by cycle_id

),

cycles_aggregated as (

    select
        cycle_id,
        any_value(
            household_id order by started_at asc, source_line desc nulls last, device_id asc, session_id asc
        ) as household_id,
        any_value(profile_id) as profile_id,
        any_value(title_id) as title_id,
        any_value(cycle_number) as cycle_number,
        min(started_at) as started_at,
        count(*) as session_count,
        sum(played_seconds) as played_seconds,
        any_value(content_end_seconds) as content_end_seconds,
        min(ended_at) filter (
            where max_position_seconds >= {{ var('rewatch__completion_position_share') }} * content_end_seconds
        ) as reached_end_at,
        -- The zone of the session that reached the end (the household's, or its row's country's).
        arg_min(timezone_name, (ended_at, session_id)) filter (
            where max_position_seconds >= {{ var('rewatch__completion_position_share') }} * content_end_seconds
        ) as reached_end_timezone_name

    from cycle_sessions

    group by cycle_id

),

cycles_completed as (

    select
        cycles_aggregated.cycle_id,
        cycles_aggregated.household_id,
        cycles_aggregated.profile_id,
        cycles_aggregated.title_id,
        cycles_aggregated.cycle_number,
        cycles_aggregated.started_at,
        cycles_aggregated.session_count,
        cycles_aggregated.played_seconds,
        coalesce(cycle_coverage.coverage_seconds, 0) as coverage_seconds,
        cycles_aggregated.content_end_seconds,
        coalesce(cycle_coverage.coverage_seconds, 0)
        >= {{ var('rewatch__completion_coverage_share') }} * cycles_aggregated.content_end_seconds as is_completed,
        cycles_aggregated.reached_end_at,
        cycles_aggregated.reached_end_timezone_name

    from cycles_aggregated
    left join cycle_coverage
        on cycles_aggregated.cycle_id = cycle_coverage.cycle_id

),

cycles_final as (

    select
        cycles_completed.cycle_id,
        cycles_completed.household_id,
        cycles_completed.profile_id,
        cycles_completed.title_id,
        cycles_completed.cycle_number,
        cycles_completed.started_at,
        case when cycles_completed.is_completed then cycles_completed.reached_end_at end as completed_at,
        case
            when cycles_completed.is_completed
                then cast(
                    {{ utc_to_local(
                        'cycles_completed.reached_end_at', 'cycles_completed.reached_end_timezone_name'
                    ) }} as date
                )
        end as completed_local_date,
        cycles_completed.session_count,
        cycles_completed.played_seconds,
        cycles_completed.coverage_seconds,
        cycles_completed.content_end_seconds,
        cycles_completed.is_completed

    from cycles_completed

)

select * from cycles_final
