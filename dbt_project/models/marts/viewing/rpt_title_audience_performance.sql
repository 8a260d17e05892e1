-- Rule 11 per audience: a title and window's starters, completers and repeat households counting
-- only the views and completions of kids profiles, or only those of the other profiles.
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

audience_windows as (

    select
        title_id,
        window_name,
        'kids' as audience,
        has_kids_view as has_view,
        kids_completions as completions

    from household_title_windows

    union all

    select
        title_id,
        window_name,
        'non_kids' as audience,
        has_non_kids_view as has_view,
        non_kids_completions as completions

    from household_title_windows

),

audience_figures as (

    select
        title_id,
        window_name,
        audience,
        count(*) filter (where has_view) as starters,
        -- As in rule 11: completers and repeaters are starters of the same window and audience.
        count(*) filter (where has_view and completions >= 1) as completers,
        count(*) filter (where has_view and completions >= 2) as repeat_households

    from audience_windows

    group by title_id, window_name, audience

),

performance as (

    select
        audience_figures.title_id,
        audience_figures.window_name,
        audience_figures.audience,
        window_coverage.window_start_date,
        window_coverage.window_end_date,
        window_coverage.days_observed,
        window_coverage.is_window_complete,
        audience_figures.starters,
        {{ completion_figures('audience_figures', 'titles') }}

    from audience_figures
    left join titles
        on audience_figures.title_id = titles.title_id
    left join window_coverage
        on
            audience_figures.title_id = window_coverage.title_id
            and audience_figures.window_name = window_coverage.window_name

)

select * from performance
