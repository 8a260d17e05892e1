with

titles as (

    select * from {{ ref('stg_exports__titles') }}

),

nights as (

    select * from {{ after_run('published_intermediate', 'int_nights_processed', ['export_date']) }}

),

latest_snapshots as (

    {{ latest_snapshot('titles', 'nights', 'title_id') }}

),

content_ends_derived as (

    select
        *,
        -- Where the content ends: the credits, or the runtime when the catalog has no credits.
        coalesce(credits_start_seconds, runtime_seconds) as content_end_seconds

    from latest_snapshots

)

select * from content_ends_derived
