using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MissionControl.Tasks.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Work : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Existing boards are goal boards (the BoardRead default) until their next BoardUpdated.
            migrationBuilder.AddColumn<bool>(
                name: "auto_created",
                table: "tasks",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "auto_reason",
                table: "tasks",
                type: "TEXT",
                maxLength: 100,
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "has_custom_field_values",
                table: "tasks",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<bool>(
                name: "has_dependencies",
                table: "tasks",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<bool>(
                name: "has_tags",
                table: "tasks",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<DateTime>(
                name: "previous_in_progress_at",
                table: "tasks",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "review_requested_by_agent_id",
                table: "tasks",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "board_group_id",
                table: "boards",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "board_type",
                table: "boards",
                type: "TEXT",
                maxLength: 32,
                nullable: false,
                defaultValue: "goal");

            migrationBuilder.AddColumn<DateTime>(
                name: "created_at",
                table: "boards",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "description",
                table: "boards",
                type: "TEXT",
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<Guid>(
                name: "gateway_id",
                table: "boards",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "goal_confirmed",
                table: "boards",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "goal_source",
                table: "boards",
                type: "TEXT",
                maxLength: 100,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "objective",
                table: "boards",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "slug",
                table: "boards",
                type: "TEXT",
                maxLength: 200,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "success_metrics",
                table: "boards",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "target_date",
                table: "boards",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "agents",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    organization_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    board_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    gateway_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    status = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    is_board_lead = table.Column<bool>(type: "INTEGER", nullable: false),
                    is_gateway_main = table.Column<bool>(type: "INTEGER", nullable: false),
                    session_key = table.Column<string>(type: "TEXT", maxLength: 300, nullable: true),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    updated_at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_agents", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "approval_task_links",
                columns: table => new
                {
                    approval_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    task_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_approval_task_links", x => new { x.approval_id, x.task_id });
                });

            migrationBuilder.CreateTable(
                name: "approvals",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    organization_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    board_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    task_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    agent_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    action_type = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    payload = table.Column<string>(type: "TEXT", nullable: true),
                    confidence = table.Column<double>(type: "REAL", nullable: false),
                    rubric_scores = table.Column<string>(type: "TEXT", nullable: true),
                    status = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    resolved_at = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_approvals", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "board_group_memory",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    board_group_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    organization_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    content = table.Column<string>(type: "TEXT", nullable: false),
                    tags = table.Column<string>(type: "TEXT", nullable: false),
                    is_chat = table.Column<bool>(type: "INTEGER", nullable: false),
                    source = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    agent_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    user_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_board_group_memory", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "board_groups",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    organization_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    slug = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    description = table.Column<string>(type: "TEXT", nullable: true),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    updated_at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_board_groups", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "board_memory",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    board_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    organization_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    content = table.Column<string>(type: "TEXT", nullable: false),
                    tags = table.Column<string>(type: "TEXT", nullable: false),
                    is_chat = table.Column<bool>(type: "INTEGER", nullable: false),
                    source = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    agent_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    user_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_board_memory", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "board_onboarding_sessions",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    organization_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    board_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    session_key = table.Column<string>(type: "TEXT", maxLength: 300, nullable: false),
                    status = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    messages = table.Column<string>(type: "TEXT", nullable: false),
                    draft_goal = table.Column<string>(type: "TEXT", nullable: true),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    updated_at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_board_onboarding_sessions", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "board_webhook_payloads",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    organization_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    board_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    webhook_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    payload = table.Column<string>(type: "TEXT", nullable: false),
                    headers = table.Column<string>(type: "TEXT", nullable: true),
                    source_ip = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    content_type = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    received_at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_board_webhook_payloads", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "board_webhooks",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    organization_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    board_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    agent_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    description = table.Column<string>(type: "TEXT", nullable: false),
                    enabled = table.Column<bool>(type: "INTEGER", nullable: false),
                    protected_secret = table.Column<string>(type: "TEXT", nullable: true),
                    signature_header = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    updated_at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_board_webhooks", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "custom_field_bindings",
                columns: table => new
                {
                    definition_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    board_id = table.Column<Guid>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_custom_field_bindings", x => new { x.definition_id, x.board_id });
                });

            migrationBuilder.CreateTable(
                name: "custom_field_definitions",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    organization_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    field_key = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    label = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    field_type = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    ui_visibility = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    validation_regex = table.Column<string>(type: "TEXT", nullable: true),
                    description = table.Column<string>(type: "TEXT", nullable: true),
                    required = table.Column<bool>(type: "INTEGER", nullable: false),
                    default_value = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_custom_field_definitions", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "tags",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    organization_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    slug = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    color = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    description = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_tags", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "task_comments",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    organization_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    board_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    task_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    message = table.Column<string>(type: "TEXT", nullable: false),
                    agent_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    user_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    author_name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_task_comments", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "task_custom_field_values",
                columns: table => new
                {
                    task_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    definition_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    value = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_task_custom_field_values", x => new { x.task_id, x.definition_id });
                });

            migrationBuilder.CreateTable(
                name: "task_dependencies",
                columns: table => new
                {
                    task_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    depends_on_task_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    board_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_task_dependencies", x => new { x.task_id, x.depends_on_task_id });
                });

            migrationBuilder.CreateTable(
                name: "task_tags",
                columns: table => new
                {
                    task_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    tag_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_task_tags", x => new { x.task_id, x.tag_id });
                });

            migrationBuilder.CreateIndex(
                name: "ix_tasks_assigned_agent_id",
                table: "tasks",
                column: "assigned_agent_id");

            migrationBuilder.CreateIndex(
                name: "ix_tasks_board_id_assigned_agent_id_created_at",
                table: "tasks",
                columns: new[] { "board_id", "assigned_agent_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_boards_board_group_id",
                table: "boards",
                column: "board_group_id");

            migrationBuilder.CreateIndex(
                name: "ix_boards_organization_id",
                table: "boards",
                column: "organization_id");

            migrationBuilder.CreateIndex(
                name: "ix_agents_board_id",
                table: "agents",
                column: "board_id");

            migrationBuilder.CreateIndex(
                name: "ix_agents_organization_id_gateway_id",
                table: "agents",
                columns: new[] { "organization_id", "gateway_id" });

            migrationBuilder.CreateIndex(
                name: "ix_approval_task_links_task_id",
                table: "approval_task_links",
                column: "task_id");

            migrationBuilder.CreateIndex(
                name: "ix_approvals_board_id_created_at",
                table: "approvals",
                columns: new[] { "board_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_approvals_board_id_status",
                table: "approvals",
                columns: new[] { "board_id", "status" });

            migrationBuilder.CreateIndex(
                name: "ix_board_group_memory_board_group_id_created_at",
                table: "board_group_memory",
                columns: new[] { "board_group_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_board_group_memory_board_group_id_is_chat_created_at",
                table: "board_group_memory",
                columns: new[] { "board_group_id", "is_chat", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_board_groups_organization_id",
                table: "board_groups",
                column: "organization_id");

            migrationBuilder.CreateIndex(
                name: "ix_board_memory_board_id_created_at",
                table: "board_memory",
                columns: new[] { "board_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_board_memory_board_id_is_chat_created_at",
                table: "board_memory",
                columns: new[] { "board_id", "is_chat", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_board_onboarding_sessions_board_id_updated_at",
                table: "board_onboarding_sessions",
                columns: new[] { "board_id", "updated_at" });

            migrationBuilder.CreateIndex(
                name: "ix_board_webhook_payloads_board_id",
                table: "board_webhook_payloads",
                column: "board_id");

            migrationBuilder.CreateIndex(
                name: "ix_board_webhook_payloads_webhook_id_received_at",
                table: "board_webhook_payloads",
                columns: new[] { "webhook_id", "received_at" });

            migrationBuilder.CreateIndex(
                name: "ix_board_webhooks_board_id",
                table: "board_webhooks",
                column: "board_id");

            migrationBuilder.CreateIndex(
                name: "ix_custom_field_bindings_board_id",
                table: "custom_field_bindings",
                column: "board_id");

            migrationBuilder.CreateIndex(
                name: "ix_custom_field_definitions_organization_id",
                table: "custom_field_definitions",
                column: "organization_id");

            migrationBuilder.CreateIndex(
                name: "ix_tags_organization_id",
                table: "tags",
                column: "organization_id");

            migrationBuilder.CreateIndex(
                name: "ix_task_comments_board_id",
                table: "task_comments",
                column: "board_id");

            migrationBuilder.CreateIndex(
                name: "ix_task_comments_task_id_created_at",
                table: "task_comments",
                columns: new[] { "task_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_task_custom_field_values_definition_id",
                table: "task_custom_field_values",
                column: "definition_id");

            migrationBuilder.CreateIndex(
                name: "ix_task_dependencies_board_id",
                table: "task_dependencies",
                column: "board_id");

            migrationBuilder.CreateIndex(
                name: "ix_task_dependencies_depends_on_task_id",
                table: "task_dependencies",
                column: "depends_on_task_id");

            migrationBuilder.CreateIndex(
                name: "ix_task_tags_tag_id",
                table: "task_tags",
                column: "tag_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "agents");

            migrationBuilder.DropTable(
                name: "approval_task_links");

            migrationBuilder.DropTable(
                name: "approvals");

            migrationBuilder.DropTable(
                name: "board_group_memory");

            migrationBuilder.DropTable(
                name: "board_groups");

            migrationBuilder.DropTable(
                name: "board_memory");

            migrationBuilder.DropTable(
                name: "board_onboarding_sessions");

            migrationBuilder.DropTable(
                name: "board_webhook_payloads");

            migrationBuilder.DropTable(
                name: "board_webhooks");

            migrationBuilder.DropTable(
                name: "custom_field_bindings");

            migrationBuilder.DropTable(
                name: "custom_field_definitions");

            migrationBuilder.DropTable(
                name: "tags");

            migrationBuilder.DropTable(
                name: "task_comments");

            migrationBuilder.DropTable(
                name: "task_custom_field_values");

            migrationBuilder.DropTable(
                name: "task_dependencies");

            migrationBuilder.DropTable(
                name: "task_tags");

            migrationBuilder.DropIndex(
                name: "ix_tasks_assigned_agent_id",
                table: "tasks");

            migrationBuilder.DropIndex(
                name: "ix_tasks_board_id_assigned_agent_id_created_at",
                table: "tasks");

            migrationBuilder.DropIndex(
                name: "ix_boards_board_group_id",
                table: "boards");

            migrationBuilder.DropIndex(
                name: "ix_boards_organization_id",
                table: "boards");

            migrationBuilder.DropColumn(
                name: "auto_created",
                table: "tasks");

            migrationBuilder.DropColumn(
                name: "auto_reason",
                table: "tasks");

            migrationBuilder.DropColumn(
                name: "has_custom_field_values",
                table: "tasks");

            migrationBuilder.DropColumn(
                name: "has_dependencies",
                table: "tasks");

            migrationBuilder.DropColumn(
                name: "has_tags",
                table: "tasks");

            migrationBuilder.DropColumn(
                name: "previous_in_progress_at",
                table: "tasks");

            migrationBuilder.DropColumn(
                name: "review_requested_by_agent_id",
                table: "tasks");

            migrationBuilder.DropColumn(
                name: "board_group_id",
                table: "boards");

            migrationBuilder.DropColumn(
                name: "board_type",
                table: "boards");

            migrationBuilder.DropColumn(
                name: "created_at",
                table: "boards");

            migrationBuilder.DropColumn(
                name: "description",
                table: "boards");

            migrationBuilder.DropColumn(
                name: "gateway_id",
                table: "boards");

            migrationBuilder.DropColumn(
                name: "goal_confirmed",
                table: "boards");

            migrationBuilder.DropColumn(
                name: "goal_source",
                table: "boards");

            migrationBuilder.DropColumn(
                name: "objective",
                table: "boards");

            migrationBuilder.DropColumn(
                name: "slug",
                table: "boards");

            migrationBuilder.DropColumn(
                name: "success_metrics",
                table: "boards");

            migrationBuilder.DropColumn(
                name: "target_date",
                table: "boards");
        }
    }
}
