with

household_title_windows as (

    select * from {{ after_run('published', 'fct_household_title_windows', ['household_id', 'title_id']) }}

),

titles as (

    select * from {{ ref('int_titles_current') }}

),

window_coverage as (

    select * from {{ ref('int_title_windows') }}

),

title_windows as (

    select
        title_id,
        window_name,
        count(*) filter (where has_view) as starters,
        -- Completers and repeaters are starters of the same window: the rates stay within [0, 1].
        count(*) filter (where has_view and completions >= 1) as completers,
        count(*) filter (where has_view and completions >= 2) as repeat_households,
        sum(played_seconds) / 3600.0 as hours_viewed

    from household_title_windows

    group by title_id, window_name

),

performance as (

    select
        title_windows.title_id,
        title_windows.window_name,
        window_coverage.window_start_date,
        window_coverage.window_end_date,
        window_coverage.days_observed,
        window_coverage.is_window_complete,
        title_windows.starters,
        -- A title with no runtime (never played past 0 s) cannot be completed: its completion
        -- figures and views are unknown (null), not zero.
        {{ completion_figures('title_windows', 'titles') }},
        title_windows.hours_viewed,
        title_windows.hours_viewed / nullif(titles.runtime_seconds / 3600.0, 0) as views,
        -- `estimated`: the runtime (and so views and completions) rests on the largest bookmark seen.
        titles.runtime_source

    from title_windows
    left join titles
        on title_windows.title_id = titles.title_id
    left join window_coverage
        on
            title_windows.title_id = window_coverage.title_id
            and title_windows.window_name = window_coverage.window_name

)

select * from performance
