-- One row per season and launch window (docs/metrics.md, "Seasons"): households that started
-- the season in the window and those of them that finished it by the window's end.
with

progress as (

    select * from {{ after_run(
        'published', 'fct_household_season_progress', ['household_id', 'series_title', 'season_number']
    ) }}

),

titles as (

    select * from {{ ref('int_titles_current') }}

),

title_windows as (

    select * from {{ ref('int_title_windows') }}

),

-- A season launches with its first episode: the windows of that episode's title (the same
-- release date) are the season's, with their coverage.
season_episodes as (

    select
        *,
        row_number() over (
            partition by series_title, season_number
            order by release_date nulls last, episode_number nulls last, title_id
        ) = 1 as is_first_released

    from titles

    where {{ is_season_episode() }}

),

season_premieres as (

    select
        series_title,
        season_number,
        min(release_date) as season_release_date,
        min(title_id) filter (where is_first_released) as premiere_title_id

    from season_episodes

    group by series_title, season_number

),

seasons_watched as (

    select distinct
        series_title,
        season_number

    from progress

),

season_windows as (

    select
        season_premieres.series_title,
        season_premieres.season_number,
        season_premieres.season_release_date,
        title_windows.window_name,
        title_windows.window_start_date,
        title_windows.window_end_date,
        title_windows.days_observed,
        title_windows.is_window_complete

    from season_premieres
    inner join title_windows
        on season_premieres.premiere_title_id = title_windows.title_id
    semi join seasons_watched
        on
            season_premieres.series_title = seasons_watched.series_title
            and season_premieres.season_number = seasons_watched.season_number

),

-- A starter of a window first viewed the season within it (lifetime: ever); a completer is a
-- starter that finished the season by the window's end.
household_windows as (

    select
        season_windows.series_title,
        season_windows.season_number,
        season_windows.window_name,
        progress.household_id,
        progress.is_season_completed
        and (
            season_windows.window_end_date is null
            or progress.season_completed_local_date <= season_windows.window_end_date
        ) as is_completer,
        progress.binge_days

    from season_windows
    inner join progress
        on
            season_windows.series_title = progress.series_title
            and season_windows.season_number = progress.season_number
    where
        progress.first_viewed_local_date is not null
        and (
            season_windows.window_start_date is null
            or progress.first_viewed_local_date between season_windows.window_start_date
            and season_windows.window_end_date
        )

),

window_figures as (

    select
        series_title,
        season_number,
        window_name,
        count(*) as starters,
        count(*) filter (where is_completer) as completers,
        median(binge_days) filter (where is_completer) as median_binge_days

    from household_windows

    group by series_title, season_number, window_name

),

performance as (

    select
        season_windows.series_title,
        season_windows.season_number,
        season_windows.window_name,
        season_windows.season_release_date,
        season_windows.window_start_date,
        season_windows.window_end_date,
        season_windows.days_observed,
        season_windows.is_window_complete,
        coalesce(window_figures.starters, 0) as starters,
        coalesce(window_figures.completers, 0) as completers,
        window_figures.completers / nullif(window_figures.starters, 0) as completion_rate,
        window_figures.median_binge_days

    from season_windows
    left join window_figures
        on
            season_windows.series_title = window_figures.series_title
            and season_windows.season_number = window_figures.season_number
            and season_windows.window_name = window_figures.window_name

)

select * from performance
