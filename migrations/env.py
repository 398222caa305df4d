import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app
from geoalchemy2 import alembic_helpers

from portal.operations.partitions import is_partition_name

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging. Loggers that exist already stay enabled: migrations
# also run inside a live process (the test suite, an upgrade at start-up).
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger('alembic.env')

# Tables the migrations don't own: PostGIS's catalog tables (spatial_ref_sys, ...) and the monthly
# or yearly partitions, which the partition manager creates at run time
# (portal/operations/partitions.py).
IGNORED_TABLES = {'spatial_ref_sys', 'geography_columns', 'geometry_columns'}


def include_object(obj, name, type_, reflected, compare_to):
    if type_ == 'table' and (name in IGNORED_TABLES or is_partition_name(name)):
        return False
    # PostgreSQL clones a foreign key to a partitioned table once per partition it references;
    # the reflected clones point at the partitions and have no counterpart in the models.
    if (
        type_ == 'foreign_key_constraint'
        and reflected
        and is_partition_name(obj.referred_table.name)
    ):
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def get_engine():
    # Flask-SQLAlchemy 3: ``db.engine`` (``get_engine()`` is deprecated and warns).
    return current_app.extensions['migrate'].db.engine


def get_engine_url():
    return get_engine().url.render_as_string(hide_password=False).replace('%', '%%')


config.set_main_option('sqlalchemy.url', get_engine_url())
target_db = current_app.extensions['migrate'].db


def get_metadata():
    if hasattr(target_db, 'metadatas'):
        return target_db.metadatas[None]
    return target_db.metadata


def run_migrations_offline():
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    url = config.get_main_option("sqlalchemy.url")
    context.configure(
        url=url,
        target_metadata=get_metadata(),
        literal_binds=True,
        include_object=include_object,
        render_item=alembic_helpers.render_item,
    )

    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run migrations in 'online' mode.

    In this scenario we need to create an Engine
    and associate a connection with the context.

    """

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, 'autogenerate', False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info('No changes in schema detected.')

    conf_args = dict(current_app.extensions['migrate'].configure_args)
    if conf_args.get("process_revision_directives") is None:
        # GeoAlchemy2's rewriter turns spatial table/column/index operations into ones that
        # create the spatial index explicitly; the chained check drops an empty revision.
        conf_args["process_revision_directives"] = alembic_helpers.writer.chain(
            process_revision_directives
        )
    conf_args.setdefault("include_object", include_object)
    conf_args.setdefault("render_item", alembic_helpers.render_item)

    connectable = get_engine()

    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=get_metadata(),
            **conf_args
        )

        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
