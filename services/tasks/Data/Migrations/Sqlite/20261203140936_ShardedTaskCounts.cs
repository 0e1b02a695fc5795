using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MissionControl.Tasks.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ShardedTaskCounts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropPrimaryKey(
                name: "pk_board_task_counts",
                table: "board_task_counts");

            migrationBuilder.AddColumn<int>(
                name: "shard",
                table: "board_task_counts",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddPrimaryKey(
                name: "pk_board_task_counts",
                table: "board_task_counts",
                columns: new[] { "board_id", "status", "shard" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropPrimaryKey(
                name: "pk_board_task_counts",
                table: "board_task_counts");

            migrationBuilder.DropColumn(
                name: "shard",
                table: "board_task_counts");

            migrationBuilder.AddPrimaryKey(
                name: "pk_board_task_counts",
                table: "board_task_counts",
                columns: new[] { "board_id", "status" });
        }
    }
}
