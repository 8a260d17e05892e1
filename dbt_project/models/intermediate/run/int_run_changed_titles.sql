-- Titles whose catalog facts this run changes (runtime, content end, release date), or that it
-- adds or drops, compared with the published warehouse: their streams are re-derived whole
-- (int_run_dimension_changes), and their published figures may be restated by a catalog recut.
with

titles as (

    select * from {{ ref('int_titles_latest') }}

),

published_titles as (

    select * from {{ source('published_intermediate', 'int_titles_current') }}

),

changed_titles as (

    select coalesce(titles.title_id, published_titles.title_id) as title_id
    from titles
    full outer join published_titles
        on titles.title_id = published_titles.title_id
    where
        titles.title_id is null
        or published_titles.title_id is null
        or titles.content_end_seconds is distinct from published_titles.content_end_seconds
        or titles.runtime_seconds is distinct from published_titles.runtime_seconds
        or titles.release_date is distinct from published_titles.release_date

)

select * from changed_titles
